import pytest

from newsagg.urls import address_refusal, canonical_url, host_refusal, is_http_url, is_private_host


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


@pytest.mark.parametrize("address", [
    "100.100.100.200", "100.64.0.1",  # carrier-grade NAT, incl. a cloud metadata address
    "2002:a9fe:a9fe::1", "2002:7f00:1::",  # 6to4 embedding 169.254.169.254 / 127.0.0.1
    "::ffff:127.0.0.1", "::ffff:8.8.8.8",  # IPv4-mapped IPv6
    "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "64:ff9b:1::1",  # NAT64 embedding private v4; local-use NAT64
    "::127.0.0.1", "fec0::1",  # IPv4-compatible and site-local (deprecated)
    "224.0.0.1", "239.255.255.250", "ff02::1", "ff0e::1",  # multicast
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "255.255.255.255",
    "192.0.0.8", "198.18.0.1", "192.0.2.1", "::1", "::", "fe80::1", "fd00::1", "2001:db8::1", "2001::1",
])
def test_non_public_addresses_are_refused(address):
    assert address_refusal(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "2002:5db8:d822::1",
                                     "64:ff9b::808:808"])
def test_public_addresses_pass(address):
    assert address_refusal(address) is None


def test_an_unresolvable_host_is_refused():
    assert host_refusal("does-not-exist.invalid") == "does not resolve"
    assert is_private_host("does-not-exist.invalid")
    assert is_private_host("[::1]")
