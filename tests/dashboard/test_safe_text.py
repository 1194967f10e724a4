"""Scraped text renders literally: Markdown escaping, Plotly hover escaping, http(s)-only URLs."""

from __future__ import annotations

import re

import pytest

from dashboard.safe_text import hover_escape, http_url, md_escape, paragraphs, shorten

TRICKY = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    "**bold** _it_ `code` [link](javascript:alert(1)) ![img](http://x/y.png)",
    "# heading", "- item", "1. item", "> quote", "| a | b |", ":red[red] :material/home: $x^2$ ~~gone~~",
    "a\\*b &lt;tag&gt; &amp;",
]


@pytest.mark.parametrize("text", TRICKY)
def test_md_escape_leaves_no_markdown_or_html_active(text):
    escaped = md_escape(text)
    # every special character is preceded by a backslash, so nothing is left for Markdown to interpret
    assert not re.search(r"(?<!\\)[<>\[\]()*_`#|:$~&]", escaped.replace("\\\\", ""))
    assert re.sub(r"\\(.)", r"\1", escaped) == text  # and it renders as exactly the original text


def test_md_escape_puts_text_on_one_line():
    assert md_escape("line one\n\n  line two\t") == "line one line two"
    assert md_escape(None) == ""


def test_hover_escape_entity_escapes_html_and_shortens():
    assert hover_escape('<b onmouseover="x">hi</b>') == "&lt;b onmouseover=&quot;x&quot;&gt;hi&lt;/b&gt;"
    assert hover_escape("word " * 50, max_chars=20).endswith("…")


@pytest.mark.parametrize("url, ok", [
    ("https://example.com/a?b=1", True), ("http://127.0.0.1:8801/x", True), ("HTTPS://EXAMPLE.COM/", True),
    ("javascript:alert(1)", False), ("data:text/html,<script>", False), ("file:///etc/passwd", False),
    ("//example.com/x", False), ("/relative", False), ("", False), (None, False),
    ("https://exa mple.com/", False), ("https://example.com/\njavascript:x", False), ("http://[::1", False),
])
def test_http_url_only_allows_absolute_http_and_https(url, ok):
    assert (http_url(url) is not None) is ok


def test_paragraphs_and_shorten():
    assert paragraphs("one\ntwo\n\n\nthree\n") == ["one", "two", "three"]
    assert shorten("alpha beta gamma delta", 12) == "alpha beta …"
    assert shorten("short", 12) == "short"
