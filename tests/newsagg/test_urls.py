import pytest

from newsagg.urls import canonical_url, is_http_url, is_private_host


@pytest.mark.parametrize("raw,expected", [
    ("HTTPS://Example.COM:443/a/b?utm_source=rss&id=3&fbclid=x#frag", "https://example.com/a/b?id=3"),
    ("http://example.com:80", "http://example.com/"),
    ("http://127.0.0.1:8001/x?utm_medium=feed", "http://127.0.0.1:8001/x"),
    ("https://ex.com/p?b=2&a=1", "https://ex.com/p?b=2&a=1"),  # order kept: servers may care
])
def test_canonical_url(raw, expected):
    assert canonical_url(raw) == expected


def test_http_only():
    assert is_http_url("https://ex.com/a")
    assert not is_http_url("javascript:alert(1)") and not is_http_url("file:///etc/passwd")
    assert not is_http_url("data:text/html,hi") and not is_http_url(None)


def test_private_hosts():
    assert is_private_host("127.0.0.1") and is_private_host("10.1.2.3") and is_private_host("169.254.169.254")
    assert is_private_host("localhost") and is_private_host("::1")
    assert not is_private_host("93.184.216.34")
