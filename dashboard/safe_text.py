"""Scraped text is data, never markup: helpers that make it render literally in Streamlit and Plotly.

Streamlit's Markdown never runs raw HTML without unsafe_allow_html (which the dashboard never passes), but a
title such as `**[win](javascript:…)**` would still turn into formatting or a link. Escaping every Markdown
punctuation character makes the text show exactly as stored.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

# Every ASCII punctuation character CommonMark lets us backslash-escape and that Streamlit's Markdown (GFM, math,
# :color[...] directives, emoji shortcodes) gives a meaning to.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~=$:&^])")
_WHITESPACE = re.compile(r"\s+")


def md_escape(text: str | None) -> str:
    """Text → Markdown that renders as that text, on one line (for titles, labels, captions)."""
    one_line = _WHITESPACE.sub(" ", text or "").strip()
    return _MD_SPECIAL.sub(r"\\\1", one_line)


def hover_escape(text: str | None, max_chars: int = 120) -> str:
    """Text for Plotly hover labels and legends, which understand a few HTML tags: entity-escape them."""
    one_line = _WHITESPACE.sub(" ", text or "").strip()
    if len(one_line) > max_chars:
        one_line = one_line[: max_chars - 1] + "…"
    return html.escape(one_line, quote=True)


def http_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL, else None (no javascript:, data:, file: … links or images)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(c in url for c in "\r\n\t\x00 "):
        return None
    return url


def paragraphs(body: str | None) -> list[str]:
    """A stored body split into its paragraphs (the extractor writes one paragraph per line)."""
    parts = re.split(r"\n+", (body or "").strip())
    return [p.strip() for p in parts if p.strip()]


def shorten(text: str | None, max_chars: int) -> str:
    """At most max_chars characters, cut at a word boundary."""
    text = _WHITESPACE.sub(" ", text or "").strip()
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars].rsplit(" ", 1)[0]
    return cut + " …"


MAX_ID = 2**63 - 1  # ids are 64-bit SQL integers; a larger number is no row, not a database error


def parse_id(raw: str | None) -> int | None:
    """An id from a deep link (?article=, ?story=): plain ASCII digits within the store's range, else None.

    str.isdigit() alone accepts "²" or "٣" (which int() then refuses), and 20 digits overflow the database."""
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(MAX_ID)):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None
