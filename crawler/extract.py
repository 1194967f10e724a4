"""Article extraction: HTML -> ExtractedArticle (metadata + main text).

Pipeline for the body (see ``_extract_body_from_tree``):

1. parse once with lxml (trafilatura's loader, so tolerant of broken markup);
2. normalise a working copy of the DOM: drop hidden elements, page chrome
   (``<header>`` blocks, share/newsletter/related/comment widgets, hover cards),
   merge an article body the CMS split into several sibling containers;
3. run trafilatura on it (fast mode, recall focus, comments off);
4. clean the text line by line: the title and header lines it repeats,
   bylines/datelines, newsletter/follow/"read more"/copyright/credit lines and
   trailing "related"/comment sections;
5. compare with the JSON-LD ``articleBody`` and keep it only when it is
   clearly more complete and agrees with the HTML text.

Metadata come from JSON-LD first, then OpenGraph/article:* meta, other meta
tags, ``<time>`` and byline text.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Iterator
from urllib.parse import urljoin, urlsplit

try:  # zoneinfo is stdlib; tzdata provides the database on slim systems
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover
    ZoneInfo = None  # type: ignore[assignment]

from lxml import etree
from lxml.html import HtmlElement

import trafilatura
from trafilatura.utils import load_html

LOG = logging.getLogger(__name__)

__all__ = ["ExtractOverrides", "ExtractedArticle", "extract_article", "extract_body"]

# Inputs beyond this many characters are cut (a news page is rarely above 3 MB;
# the rest is usually inline JSON/JS and only costs parse time).
MAX_HTML_CHARS = 6_000_000


# --------------------------------------------------------------------------------------
# public data types
# --------------------------------------------------------------------------------------


@dataclass
class ExtractOverrides:
    """Per-source overrides from the registry."""

    body_selector: str | None = None  # CSS selector of the body container
    drop_selectors: list[str] = field(default_factory=list)


@dataclass
class ExtractedArticle:
    url: str
    canonical_url: str | None
    amp_url: str | None
    title: str
    authors: list[str]
    published: datetime | None
    updated: datetime | None
    language: str | None
    lead_image: str | None
    summary: str
    body: str
    tags: list[str]
    site_name: str | None
    paywalled: bool
    is_article: bool
    body_source: str


# --------------------------------------------------------------------------------------
# small text helpers
# --------------------------------------------------------------------------------------

_WS_RE = re.compile(r"\s+")
_TOKEN_RE = re.compile(r"\w+")
_CTRL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _clean_ws(text: str | None) -> str:
    if not text:
        return ""
    return _WS_RE.sub(" ", _CTRL_RE.sub("", str(text))).strip()


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


# --------------------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------------------


def _parse(html: Any) -> HtmlElement | None:
    if html is None:
        return None
    if isinstance(html, (bytes, bytearray)):
        html = bytes(html).decode("utf-8", errors="replace")
    if not isinstance(html, str):
        return None
    if len(html) > MAX_HTML_CHARS:
        html = html[:MAX_HTML_CHARS]
    html = _CTRL_RE.sub("", html.replace("\x00", ""))
    if not html.strip():
        return None
    try:
        tree = load_html(html)
    except Exception:  # noqa: BLE001 - untrusted input, never raise
        LOG.debug("parse failed", exc_info=True)
        return None
    if tree is None or not isinstance(tree, HtmlElement):
        return None
    return tree


def _text_of(el: etree._Element) -> str:
    try:
        return _clean_ws("".join(el.itertext()))
    except Exception:  # noqa: BLE001
        return ""


def _classid(el: etree._Element) -> str:
    cls = el.get("class") or ""
    eid = el.get("id") or ""
    if len(cls) > 300:
        cls = cls[:300]
    if len(eid) > 100:
        eid = eid[:100]
    return f"{cls} {eid}".lower()


# --------------------------------------------------------------------------------------
# DOM normalisation before the text extractor
# --------------------------------------------------------------------------------------

_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)

# Page furniture identified by class/id tokens. Matched against whole
# hyphen/underscore-separated words so that e.g. "shareholder" or "commentary"
# do not match "share"/"comment".
_BOILER_WORDS = (
    r"newsletter|newsletters|nl-signup|signup|sign-up|subscribe|subscription-box|"
    r"related|related-articles|related-content|related-posts|related-stories|relatedlinks|"
    r"recirc|recirculation|more-stories|more-from|read-more|readmore|read-next|read-also|"
    r"also-read|most-popular|mostpopular|most-read|mostread|popular-posts|trending|"
    r"share|sharing|share-bar|sharebar|share-buttons|social-share|social-links|socialshare|"
    r"share-tools|social|sociallinks|"
    r"comment|comments|comment-list|commentlist|comments-area|disqus|"
    r"author-bio|authorbio|author-box|about-author|about-the-author|bio-box|"
    r"promo|promotion|outbrain|taboola|sponsored|advert|advertisement|ad-container|"
    r"ad-slot|adslot|ad-wrapper|dfp|breadcrumb|breadcrumbs|tags|tag-list|taglist|"
    r"print-article|reprints|byline|article-byline|dateline|timestamp|"
    r"rollover|tooltip|popover|hovercard|hover-card"
)
_BOILER_RE = re.compile(r"(?:^|[\s_-])(?:" + _BOILER_WORDS + r")(?:$|[\s_-])", re.I)

# standfirst / dek / subtitle blocks that repeat the summary above the body
_DEK_RE = re.compile(
    r"(?:^|[\s_-])(?:dek|standfirst|stand-first|sub-?head|sub-?headline|subtitle|sub-?title|"
    r"article-summary|article-subtitle|summary-lead|kicker|headline|article-title|entry-title|"
    r"post-title|page-title)(?:$|[\s_-])",
    re.I,
)

_BODY_CLASS_RE = re.compile(
    r"article[-_]?body|articlebody|article__body|article-content|article__content|"
    r"articlecontent|entry-content|post-content|post-body|story-body|storybody|"
    r"story-content|body__container|body-text|article-text|articletext|rich-text|"
    r"field-body|content-body|post__content|article__text|paywall",
    re.I,
)

_BLOCKY = {"p", "li", "blockquote", "pre", "h2", "h3", "h4", "h5", "h6", "td", "dd"}


def _p_text_len(el: etree._Element) -> int:
    n = 0
    for p in el.iter("p"):
        n += len(_text_of(p))
    return n


def _drop(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail and tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _protected(el: etree._Element, total_p: int) -> bool:
    """True if the element holds a large part of the page's paragraph text."""
    if total_p <= 0:
        return False
    own = _p_text_len(el)
    return own > 0.3 * total_p or own > 2500


def _merge_split_bodies(root: HtmlElement) -> None:
    """Some CMSs cut one article into several sibling containers with the same
    classes (ads between them). Extractors take the first one only: merge them."""
    groups: dict[tuple[str, str], list[etree._Element]] = {}
    for el in root.iter("div", "section", "article"):
        cls = el.get("class") or ""
        if not cls or not _BODY_CLASS_RE.search(cls):
            continue
        groups.setdefault((el.tag, cls), []).append(el)
    for members in groups.values():
        if len(members) < 2 or len(members) > 40:
            continue
        # keep only outermost members
        outer = []
        ids = set(map(id, members))
        for m in members:
            if not any(id(a) in ids for a in m.iterancestors()):
                outer.append(m)
        if len(outer) < 2:
            continue
        # each chunk must carry real paragraphs
        if sum(1 for m in outer if _p_text_len(m) >= 150) < 2:
            continue
        first = outer[0]
        for m in outer[1:]:
            for child in list(m):
                first.append(child)
            _drop(m)


def _preclean(root: HtmlElement, title: str, flags: dict[str, bool]) -> None:
    total_p = _p_text_len(root)
    body = root.find("body")
    scope = body if body is not None else root
    to_drop: list[etree._Element] = []
    for el in scope.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag
        if tag in ("html", "body"):
            continue
        if flags.get("hidden", True):
            style = el.get("style")
            if (el.get("hidden") is not None or (style and _HIDDEN_STYLE_RE.search(style))) and tag not in (
                "html",
                "body",
            ):
                to_drop.append(el)
                continue
        if flags.get("header", True) and tag == "header":
            if not _protected(el, total_p):
                to_drop.append(el)
                continue
        ci = _classid(el)
        if ci.strip():
            if flags.get("boiler", True) and _BOILER_RE.search(ci) and tag not in ("p", "main", "article"):
                if not _protected(el, total_p):
                    to_drop.append(el)
                    continue
            if flags.get("dek", True) and tag in ("h1", "h2", "h3", "p", "div", "span") and _DEK_RE.search(ci):
                if len(_text_of(el)) < 400 and len(el.findall(".//p")) <= 1 and not _protected(el, total_p):
                    to_drop.append(el)
                    continue
    seen: set[int] = set()
    for el in to_drop:
        # skip descendants of already dropped nodes
        if any(id(a) in seen for a in el.iterancestors()):
            continue
        seen.add(id(el))
        _drop(el)
    if flags.get("merge", True):
        _merge_split_bodies(root)


# --------------------------------------------------------------------------------------
# text post-processing
# --------------------------------------------------------------------------------------

_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DATE_WORDS = re.compile(
    r"^(?:(?:" + _MONTHS + r"|mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:rs(?:day)?)?|fri(?:day)?|"
    r"sat(?:urday)?|sun(?:day)?|am|pm|a|m|p|at|on|of|the|th|st|nd|rd|utc|gmt|[ecmp][sd]?t|"
    r"updated|published|posted|last|modified|first|\d+[a-z]*)\b[\s,.:/|·•\-–—]*)+$",
    re.I,
)

_BOILER_LINE_RES = [
    re.compile(p, re.I)
    for p in (
        # "read more" style cross links
        r"^(?:read more|read also|also read|related|related articles?|related stories|related content|"
        r"related coverage|see more|see also|more|more from|more on|watch|listen|recommended|"
        r"don[’']t miss|must read|trending|top stories|editor[’']s picks?|read next|up next|"
        r"click here|tap here|most read|popular)\s*(?::|\||»|›|>|–|—|-{1,2}\s)",
        r"^(?:related (?:articles?|stories|posts|content|coverage|links|reading)|more (?:stories|news|articles|"
        r"from [\w .’'&-]{1,40}|on this (?:story|topic))|most (?:read|popular|viewed|shared)(?: [\w .’'-]{0,40})?|"
        r"popular (?:on|in) [\w .’'-]{1,40}|trending(?: now| stories)?|you (?:may|might) (?:also )?like|"
        r"recommended(?: for you| stories| articles)?|don[’']t miss|read next|up next|what to read next|"
        r"share (?:this|the) (?:article|story|post)|share on \w+|advertisement|sponsored(?: content)?|"
        r"story continues below(?: advertisement)?|continue reading(?: below| the main story)?|"
        r"scroll to continue(?: with content)?|comments?|\d+ comments?|leave a (?:comment|reply)|"
        r"post (?:a )?comment(?: \(\+\))?|tell us what you think\W*|join the (?:conversation|discussion)|"
        r"print(?: article| this article)?|order reprints?|text size|email this article|"
        r"sign up|subscribe(?: now)?|log ?in|sign in)\W*$",
        # newsletters / subscription / app promos
        r"\b(?:sign up (?:for|to)|subscribe to|subscribe for|newsletters?\b.*\b(?:sign up|subscribe|inbox)|"
        r"(?:in|to) your inbox|delivered (?:to|through) your|get (?:the|our) [\w ’'-]{0,40}app\b|"
        r"download (?:the|our) [\w ’'-]{0,40}app\b)",
        r"^click here to (?:subscribe|sign up|get|download|join|follow|read|see|watch)",
        # social follow / contact lines
        r"^follow (?:us|him|her|them|me|[\w’'.&@-]+(?: [\w’'.&@-]+){0,5}) on (?:twitter|facebook|instagram|"
        r"linkedin|youtube|tiktok|threads|mastodon|bluesky|x\b)",
        r"^(?:follow|like) (?:us|him|her) (?:on|@)",
        r"^(?:e-?mail|contact|reach|write to|message) (?:the )?(?:author|writer|reporters?|[\w’'.-]+(?: [\w’'.-]+){0,3}) "
        r"(?:at|on|via) \S",
        r"\bmay be reached at\b|\bcan be reached at\b|^have a (?:news )?tip\b|^got a (?:news )?tip\b",
        # credits
        r"\bcontributed (?:to )?(?:this|the) (?:report|story|article)\W*$",
        r"^(?:additional |with )?(?:reporting|writing|editing) by\b",
        r"^\(?(?:reporting|writing|editing|compiled) by\b",
        r"^(?:contributing|additional reporting|source|sources|via|image credit|photo credit|credit)\s*:",
        r"^(?:with )?(?:post|ap|afp|reuters|wire|wires|agency) (?:wires|reports|services)\W*$",
        # copyright, reprint and legal furniture
        r"^(?:copyright\b|\u00a9|\(c\) ?\d{4})",
        r"\ball rights reserved\b",
        r"for your personal,? non-commercial use only",
        r"^this (?:material|article|story) may not be (?:published|reproduced)",
        # disclosures and promos
        r"\b(?:we|[\w.]+) (?:may|might) (?:earn|get|receive|collect) (?:a )?(?:small )?(?:commission|share of|"
        r"portion of|affiliate)",
        r"\baffiliate (?:links?|commission)\b.{0,80}$",
        r"^if you (?:enjoyed|liked|value|appreciate)(?: reading)? this (?:article|story|post|content)",
        # page chrome
        r"^(?:filed under|tags?|topics?|categories|category|posted in|share this|share)\s*:",
        r"^(?:updated|published|posted|last updated|first published|last modified)\s*:?\s.{0,60}$",
        r"^\d+\s*(?:min(?:ute)?s?|mins?)\.? read\W*$",
        r"^(?:reading time|tempo de leitura|lesezeit|temps de lecture|tiempo de lectura)\s*:",
        r"^(?:an error has occurred|something went wrong),? please try again",
        r"^https?://\S+$",
    )
]

# Section headings after which the rest of the text is page furniture
_TAIL_HEAD_RE = re.compile(
    r"^(?:related (?:articles?|stories|posts|content|coverage|links|reading)|more (?:stories|news|articles|"
    r"from [\w .’'&-]{1,40})|most (?:read|popular|viewed|shared)(?: [\w .’'-]{0,40})?|popular (?:on|in) "
    r"[\w .’'-]{1,40}|you (?:may|might) (?:also )?like|recommended(?: for you| stories| articles)?|read next|"
    r"what to read next|comments?|\d+ comments?|leave a (?:comment|reply)|join the (?:conversation|discussion)|"
    r"tell us what you think\W*|about the author|about the authors|story timeline)\W*$",
    re.I,
)

_BYLINE_LINE_RE = re.compile(
    r"^(?:by|from|words by|written by|text by|story by|posted by|publicado por|von|par|por|di)\s+"
    r"[\w’'.\- ]{2,80}(?:\s*(?:[|,/·•–—-]|and|&)\s*[\w’'.\- ]{2,60}){0,4}$",
    re.I,
)


def _is_boiler_line(line: str) -> bool:
    s = line.strip().lstrip("-•*·▶►> ").strip()
    if not s:
        return False
    if len(s) > 400:
        return False
    for rx in _BOILER_LINE_RES:
        if rx.search(s):
            return True
    return False


def _is_date_line(line: str) -> bool:
    s = line.strip()
    if not s or len(s) > 80:
        return False
    return bool(_DATE_WORDS.match(s)) and any(ch.isdigit() for ch in s)


def _title_variants(titles: Iterable[str]) -> list[str]:
    out: list[str] = []
    for t in titles:
        t = _clean_ws(t)
        if not t:
            continue
        out.append(_norm(t))
        for part in re.split(r"\s+[|\-–—:·•»]\s+|\s+::\s+", t):
            n = _norm(part)
            if len(n.split()) >= 3:
                out.append(n)
    return [o for o in dict.fromkeys(out) if o]


def _is_title_line(line: str, variants: list[str]) -> bool:
    n = _norm(line)
    if not n:
        return False
    for v in variants:
        if n == v:
            return True
        # the line is the title with a site suffix, or the title truncated
        if len(n) >= 20 and (v.startswith(n) or n.startswith(v)) and min(len(n), len(v)) >= 0.7 * max(len(n), len(v)):
            return True
    return False


def _postprocess(text: str, titles: list[str], flags: dict[str, bool]) -> str:
    lines = [ln.rstrip() for ln in text.replace("\r", "\n").split("\n")]
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        return ""
    variants = _title_variants(titles)
    # leading header lines: title, byline, date
    if flags.get("lead", True):
        i = 0
        while i < len(lines) and i < 6:
            ln = lines[i]
            if variants and _is_title_line(ln, variants):
                i += 1
                continue
            if _is_date_line(ln) or _BYLINE_LINE_RE.match(ln.strip()):
                i += 1
                continue
            break
        lines = lines[i:]
    # trailing furniture sections
    if flags.get("tail", True) and len(lines) > 3:
        cut = None
        start = max(1, int(len(lines) * 0.5))
        for k in range(start, len(lines)):
            if _TAIL_HEAD_RE.match(lines[k].strip().lstrip("-•* ").strip()):
                cut = k
                break
        if cut is not None:
            lines = lines[:cut]
    if flags.get("lines", True):
        lines = [ln for ln in lines if not _is_boiler_line(ln)]
        # trailing byline/date lines
        while lines and (_is_date_line(lines[-1]) or _BYLINE_LINE_RE.match(lines[-1].strip())):
            lines.pop()
    return "\n".join(lines).strip()


# --------------------------------------------------------------------------------------
# body extraction
# --------------------------------------------------------------------------------------

DEFAULT_FLAGS: dict[str, bool] = {
    "hidden": True,
    "header": True,
    "boiler": True,
    "dek": True,
    "merge": True,
    "lead": True,
    "tail": True,
    "lines": True,
}

TRAFILATURA_OPTS: dict[str, Any] = dict(
    fast=True,
    favor_recall=True,
    include_comments=False,
    include_tables=True,
    include_images=False,
    include_links=False,
    with_metadata=False,
)


def _run_trafilatura(tree: HtmlElement, url: str | None, **opts: Any) -> str:
    kw = dict(TRAFILATURA_OPTS)
    kw.update(opts)
    try:
        doc = trafilatura.bare_extraction(tree, url=url, **kw)
    except Exception:  # noqa: BLE001 - trafilatura can choke on odd trees
        LOG.debug("trafilatura failed", exc_info=True)
        return ""
    if doc is None:
        return ""
    text = getattr(doc, "text", None)
    if text is None and isinstance(doc, dict):
        text = doc.get("text")
    return unicodedata.normalize("NFC", text or "")


def _extract_body_from_tree(
    tree: HtmlElement,
    url: str | None,
    titles: list[str],
    flags: dict[str, bool] | None = None,
) -> tuple[str, str]:
    flags = {**DEFAULT_FLAGS, **(flags or {})}
    work = deepcopy(tree)
    try:
        _preclean(work, titles[0] if titles else "", flags)
    except Exception:  # noqa: BLE001
        LOG.debug("preclean failed", exc_info=True)
        work = deepcopy(tree)
    text = _run_trafilatura(work, url)
    source = "trafilatura-recall"
    if not text.strip():
        text = _run_trafilatura(deepcopy(tree), url)
        source = "trafilatura-raw"
    text = _postprocess(text, titles, flags)
    return text, source


def _page_titles(tree: HtmlElement) -> list[str]:
    out: list[str] = []
    for xp in (
        '//meta[@property="og:title"]/@content',
        '//meta[@name="twitter:title"]/@content',
        "//h1",
        "//title",
    ):
        try:
            for v in tree.xpath(xp)[:3]:
                out.append(v if isinstance(v, str) else _text_of(v))
        except Exception:  # noqa: BLE001
            continue
    for obj in _jsonld_objects(tree):
        h = obj.get("headline") or obj.get("name")
        if isinstance(h, str):
            out.append(h)
    return [t for t in (_clean_ws(x)[:500] for x in out) if t]


# --------------------------------------------------------------------------------------
# JSON-LD
# --------------------------------------------------------------------------------------


def _walk_ld(obj: Any, depth: int = 0) -> Iterator[dict]:
    if depth > 6:
        return
    if isinstance(obj, list):
        for x in obj[:200]:
            yield from _walk_ld(x, depth + 1)
    elif isinstance(obj, dict):
        yield obj
        for key in ("@graph", "mainEntity", "hasPart", "itemListElement"):
            if key in obj:
                yield from _walk_ld(obj[key], depth + 1)


def _jsonld_objects(tree: HtmlElement) -> list[dict]:
    cached = getattr(tree, "_newsagg_ld", None)  # not settable on lxml elements; fallthrough
    if cached is not None:
        return cached
    out: list[dict] = []
    try:
        scripts = tree.xpath('//script[contains(translate(@type,"LDJSON","ldjson"),"ld+json")]')
    except Exception:  # noqa: BLE001
        scripts = []
    for s in scripts[:30]:
        raw = s.text or ""
        if not raw.strip() or len(raw) > 2_000_000:
            continue
        raw = raw.strip()
        if raw.startswith("<!--"):
            raw = raw[4:]
        if raw.endswith("-->"):
            raw = raw[:-3]
        try:
            data = json.loads(raw, strict=False)
        except Exception:  # noqa: BLE001 - broken JSON-LD is common
            try:
                data = json.loads(re.sub(r",\s*([}\]])", r"\1", raw), strict=False)
            except Exception:  # noqa: BLE001
                continue
        out.extend(_walk_ld(data))
    return out


def extract_body(html: str, url: str | None = None) -> str:
    """Just the main text (paragraphs separated by newlines)."""
    try:
        tree = _parse(html)
        if tree is None:
            return ""
        return _extract_body_from_tree(tree, url, _page_titles(tree))[0]
    except Exception:  # noqa: BLE001
        LOG.debug("extract_body failed", exc_info=True)
        return ""
