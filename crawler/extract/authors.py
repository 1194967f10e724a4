"""Authors: JSON-LD and meta tags first, then byline text on the page; ``clean_authors``
turns raw strings into names (no "By", no organisations, no e-mail addresses)."""

from __future__ import annotations

import re
from typing import Any, Iterable

from lxml.html import HtmlElement

from crawler.extract.page import (
    META_LINE_MAX, _classid, _host, _in_comments_or_form, _ld_types, _Page, _short_raw_text, _text_of,
)
from crawler.extract.text import _EMAIL_OR_URL_RE, _MONTHS, _clean_ws, _norm
from newsagg.text import strip_control

_BY_PREFIX_RE = re.compile(
    r"^\s*(?:(?:words|written|text|story|reporting|report|photos?|posted|published|compiled)\s+by|by|author|authors|"
    r"von|par|por|di|door|av|autor(?:es|in)?|auteur)\b\s*:?\s*",
    re.I,
)
# conjunctions are matched lower-case (plus AND/And) so that initials like "Sarah E. Needleman" survive
_NAME_SPLIT_RE = re.compile(r"\s*(?:,|;|\||/|&|\+)\s*|\s+(?:and|And|AND|und|et|e|y|with|With)\s+")
_LABEL_PREFIX_RE = re.compile(r"^\s*\w{2,20}\s*:\s+")
_ROLE_SPLIT_RE = re.compile(r"\s+[|–—-]\s+|\s*\(\s*")
_ORG_WORDS = re.compile(
    r"\b(?:staff|staffer|team|desk|editors?|editorial|newsroom|bureau|news|press|media|agency|agencies|wire|wires|"
    r"reuters|associated|afp|ap|dpa|upi|bloomberg|inc|ltd|llc|gmbh|corp|corporation|group|network|magazine|"
    r"times|post|journal|daily|weekly|online|tribune|herald|gazette|telegraph|guardian|channel|radio|tv|"
    r"correspondents?|reporters?|writers?|contributors?|columnist|editor-at-large|senior|intern|"
    r"sponsored|partner|content|admin|administrator|webmaster|redaktion|redacción|rédaction|redazione)\b",
    re.I,
)


def _author_strings(value: Any, depth: int = 0) -> list[str]:
    if depth > 4 or value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        types = _ld_types(value)
        if types & {"organization", "newsmediaorganization", "corporation", "website"}:
            return []
        name = value.get("name")
        if isinstance(name, str):
            return [name]
        if isinstance(name, list):
            return [n for n in name if isinstance(n, str)]
        given, family = value.get("givenName"), value.get("familyName")
        if isinstance(given, str) and isinstance(family, str):
            return [f"{given} {family}"]
        return []
    if isinstance(value, list):
        out: list[str] = []
        for v in value[:30]:
            out.extend(_author_strings(v, depth + 1))
        return out
    return []


def clean_authors(raw: Iterable[str], org_names: Iterable[str] = (), min_words: int = 1) -> list[str]:
    """Split and clean author strings: no "By", no "and", no organisations, emails or URLs.

    ``min_words=2`` is used for free-text bylines, where single words are more
    often places or roles ("Reuters, Washington") than names."""
    orgs = {_norm(o) for o in org_names if o and _norm(o)}
    out: list[str] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, str):
            continue
        text = _clean_ws(re.sub(r"<[^>]*>", " ", item))[:300]
        if not text:
            continue
        text = _BY_PREFIX_RE.sub("", text)
        text = _LABEL_PREFIX_RE.sub("", text)
        for part in _NAME_SPLIT_RE.split(text):
            if not part:
                continue
            part = _BY_PREFIX_RE.sub("", part)
            part = _ROLE_SPLIT_RE.split(part)[0]
            part = _EMAIL_OR_URL_RE.sub("", part)
            part = part.strip(" .,:;-–—|\"'“”‘’()[]")
            if not _plausible_name(part, orgs) or len(part.split()) < min_words:
                continue
            if part.isupper() and len(part.split()) > 1:
                part = part.title()
            key = _norm(part)
            if key in seen:
                continue
            seen.add(key)
            out.append(part)
    return out[:20]


def _plausible_name(name: str, orgs: set[str]) -> bool:
    if not name or len(name) < 3 or len(name) > 60:
        return False
    words = name.split()
    if not 1 <= len(words) <= 5:
        return False
    if any(ch.isdigit() for ch in name) or "@" in name or "/" in name:
        return False
    if _ORG_WORDS.search(name):
        return False
    key = _norm(name)
    if key in orgs or any(key and (key in o or o in key) for o in orgs if len(o) > 3):
        return False
    if name.isupper() and len(words) == 1:  # AP, AFP, ANI ...
        return False
    # a name has at least one capitalised word (allow particles: van, de, von ...)
    letters = [w for w in words if w[:1].isalpha()]
    if not letters or not any(w[:1].isupper() for w in letters):
        return False
    return True


_BYLINE_SCOPE_XPATH = (
    '//*[@rel="author"] | //*[@itemprop="author"] | '
    '//*[contains(concat(" ", translate(@class,"ABCDEFGHIJKLMNOPQRSTUVWXYZ","abcdefghijklmnopqrstuvwxyz"), " "), "byline")'
    ' or contains(translate(@class,"ABCDEFGHIJKLMNOPQRSTUVWXYZ","abcdefghijklmnopqrstuvwxyz"), "author")]'
)
_BYLINE_TEXT_RE = re.compile(
    r"^\s*(?:(?:words|written|text|story)\s+by|by|author|authors)\b\s*:?\s*(.{3,200})$",
    re.I,
)


def _byline_candidates(tree: HtmlElement) -> list[str]:
    """Text of byline/author elements (class "byline"/"author", rel/itemprop author)."""
    out: list[str] = []
    try:
        body = tree.find("body")
        scope = body if body is not None else tree
        for el in scope.xpath(_BYLINE_SCOPE_XPATH)[:40]:
            if not isinstance(el.tag, str) or el.tag in ("script", "style", "body", "html", "article"):
                continue
            if _in_comments_or_form(el):
                continue
            itemprop_name = el.xpath('.//*[@itemprop="name"]')
            if itemprop_name:
                out.extend(_text_of(n) for n in itemprop_name[:5])
                continue
            text = _text_of(el)
            if 0 < len(text) <= 200:
                out.append(text)
            if len(out) >= 3:
                break
    except Exception:  # noqa: BLE001
        pass
    return out


def _by_text_candidates(tree: HtmlElement) -> list[str]:
    """Plain-text bylines: the first short block starting with "By ..."."""
    try:
        body = tree.find("body")
        scope = body if body is not None else tree
        for n, el in enumerate(scope.iter("p", "div", "span", "address", "li")):
            if n > 5000:
                break
            if len(el) > 4:
                continue
            raw = _short_raw_text(el, 200)
            text = _clean_ws(raw) if raw else ""
            if 5 <= len(text) <= 200:
                m = _BYLINE_TEXT_RE.match(text)
                if m:
                    return [m.group(1)]
    except Exception:  # noqa: BLE001
        pass
    return []


# Blocks that carry the article's meta line: "Source: X  Author: Y  2024-04-03 20:10".
_META_BLOCK_RE = re.compile(r"meta|info|byline|author|credit|dateline|date|time|posted|published", re.I)
# The labels that introduce author names inside such a block. "Editor:" is deliberately
# not one: the editor on duty is not the article's author.
_AUTHOR_LABEL_RE = re.compile(
    r"(?<!\w)(?:(?:authors?|writers?|reporters?|text)[ \t\u00a0]*[:：]|(?:words|written|text|story)[ \t\u00a0]+by\b[ \t\u00a0]*[:：]?)"
    r"\s*",
    re.I,
)
# Where the names after a label end: a gap of 2+ spaces within a line (a layout
# separator, usually &nbsp;s; line breaks plus indentation are only source
# formatting), a middle dot/bullet, a digit (dates, times), a month or weekday name
# before a number, or the next "Label:" ("Source:", "Editor:", "Last updated:").
_AUTHOR_END_RE = re.compile(
    r"(?<!\s)[ \t\u00a0\u2002\u2003\u3000]{2,}(?!\s)|[·•]|\d"
    r"|\b(?:" + _MONTHS + r")\.?\s+\d"
    r"|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b"
    r"|(?<!\w)(?:(?:last|first|responsible|chief|managing|photo|image|video|copy)\s+)?[^\W\d_][\w'’-]*[ \t\u00a0]*[:：]",
    re.I,
)


def _labelled_byline_candidates(tree: HtmlElement) -> list[str]:
    """Names after an "Author:"/"Writer:"/"Words by" label in a short meta/info block.

    The block's raw text is used: the run of &nbsp;s that separates "Author: ..."
    from the next item is lost once whitespace is normalised."""
    try:
        body = tree.find("body")
        scope = body if body is not None else tree
        for n, el in enumerate(scope.iter()):
            if n > 5000:
                break
            if not isinstance(el.tag, str) or el.tag in ("script", "style"):
                continue
            ci = _classid(el)
            if not ci.strip() or not _META_BLOCK_RE.search(ci) or _in_comments_or_form(el):
                continue
            raw = _short_raw_text(el, META_LINE_MAX)
            if raw is None:
                continue
            raw = strip_control(raw)
            if len(_clean_ws(raw)) > META_LINE_MAX:
                continue
            out = []
            for m in _AUTHOR_LABEL_RE.finditer(raw):
                rest = raw[m.end() :]
                end = _AUTHOR_END_RE.search(rest)
                names = _clean_ws(rest[: end.start()] if end else rest)
                if names:
                    out.append(names)
            if out:
                return out
    except Exception:  # noqa: BLE001
        pass
    return []


def _authors(page: _Page, site_name: str | None) -> list[str]:
    orgs: list[str] = []
    pub = page.ld_get("publisher")
    if isinstance(pub, dict) and isinstance(pub.get("name"), str):
        orgs.append(pub["name"])
    for o in page.ld:
        if _ld_types(o) & {"organization", "newsmediaorganization", "website"} and isinstance(o.get("name"), str):
            orgs.append(o["name"])
    if site_name:
        orgs.append(site_name)
    host = _host(page.url)
    if host:
        orgs.append(host.removeprefix("www.").split(".")[0])
    sources: list[list[str]] = [
        _author_strings(page.ld_get("author")) + _author_strings(page.ld_get("creator")),
        [v for v in page.m_all("article:author", "og:article:author") if not _EMAIL_OR_URL_RE.match(v)],
        page.m_all("author", "parsely-author", "sailthru.author", "dc.creator", "dcterms.creator", "citation_author", "byl"),
    ]
    for raw in sources:
        names = clean_authors(raw, orgs)
        if names:
            return names
    # free-text bylines, most specific first; a stage whose text holds no name
    # (e.g. "By AutoPulse Asia") hands over to the next
    for stage in (_byline_candidates, _labelled_byline_candidates, _by_text_candidates):
        names = clean_authors(stage(page.tree), orgs, min_words=2)
        if names:
            return names
    return []
