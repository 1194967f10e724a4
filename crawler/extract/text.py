"""Small text helpers shared by every stage: whitespace, tokens, HTML-to-plain text."""

from __future__ import annotations

import html as htmllib
import re
from typing import Any

from newsagg.text import strip_control

_WS_RE = re.compile(r"\s+")
_TOKEN_RE = re.compile(r"\w+")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _clean_ws(text: str | None) -> str:
    if not text:
        return ""
    return _WS_RE.sub(" ", strip_control(str(text))).strip()


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text.lower())


def _norm(text: str) -> str:
    return " ".join(_tokens(text))


def _shingles(text: str, n: int = 4) -> dict[tuple[str, ...], int]:
    toks = _TOKEN_RE.findall(text)
    out: dict[tuple[str, ...], int] = {}
    for i in range(max(1, len(toks) - n + 1)):
        key = tuple(toks[i : i + n])
        out[key] = out.get(key, 0) + 1
    return out


def _containment(part: str, whole: str) -> float:
    """Share of ``part``'s 4-gram shingles that also occur in ``whole``."""
    a = _shingles(part)
    if not a:
        return 0.0
    b = _shingles(whole)
    total = sum(a.values())
    return sum(min(c, b.get(k, 0)) for k, c in a.items()) / total if total else 0.0


_TAG_RE = re.compile(r"<[^>]*>")
_SCRIPT_BLOCK_RE = re.compile(r"(?is)<(script|style)\b.*?(?:</\1\s*>|$)")


def _plain(value: Any, limit: int = 2000) -> str:
    if not isinstance(value, str):
        return ""
    text = htmllib.unescape(value[: limit * 4])
    text = _SCRIPT_BLOCK_RE.sub(" ", text)
    text = _TAG_RE.sub(" ", text)
    return _clean_ws(text)[:limit]


# Month names as a regex alternation: date lines above the text, date stops in bylines.
_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
# e-mail addresses, URLs and @handles are never names (authors, site names)
_EMAIL_OR_URL_RE = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|@\w+")
