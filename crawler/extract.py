"""Article extraction: HTML -> ExtractedArticle (metadata + main text).

Body (``_choose_body``):

1. parse once with lxml (trafilatura's loader: tolerant of broken markup; huge
   pages are cut to their beginning, see MAX_HTML_CHARS / MAX_ELEMENTS);
2. normalise a copy of the DOM (``_preclean``): drop hidden elements, ``<header>``
   blocks and page furniture found by class/id words (share, newsletter, related,
   comments, hover cards ...), merge an article body that the CMS split into
   several sibling containers, wrap ``<br>``-separated loose text into ``<p>``,
   and mark link-only blocks so the text stage can recognise cross-link lists;
3. run trafilatura on it (fast, recall focus, comments off); if that comes out
   much shorter than trafilatura on the untouched page, the clean-up misled its
   container choice and the untouched-page text is used ("trafilatura-raw");
4. clean the text line by line (``_postprocess``): link-list runs, newsletter /
   follow / "read more" / credit / disclosure lines, the headline and the
   byline/date lines above the text, trailing "related"/comment sections;
5. prefer the JSON-LD ``articleBody`` only when the HTML text is missing, or is a
   teaser that the (much longer) JSON-LD body contains.

Metadata come from JSON-LD first (NewsArticle & co, also in @graph/lists), then
OpenGraph/article:* meta, other meta tags, ``<time>``/date elements and byline text.
Nothing here raises on bad input: the worst case is an article with an empty body.
Scores and the method's evaluation: ``benchmarks/extraction.py``.
"""

from __future__ import annotations

import html as htmllib
import json
import logging
import re
import unicodedata
import warnings
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
from lxml import html as lxml_html
from lxml.html import HtmlElement

import trafilatura
from trafilatura.utils import load_html

LOG = logging.getLogger(__name__)

__all__ = [
    "ExtractOverrides",
    "ExtractedArticle",
    "clean_authors",
    "extract_article",
    "extract_body",
    "parse_date",
]

# Inputs beyond this many characters are cut (a news page is rarely above 3 MB;
# the rest is usually inline JSON/JS and only costs parse time).
MAX_HTML_CHARS = 6_000_000
# Trafilatura's cost grows faster than linearly with the element count; real article
# pages stay far below this, beyond it only the beginning of the page is analysed.
MAX_ELEMENTS = 15_000


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
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
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
    # NULs, control characters and lone surrogates (bad decoding upstream) break libxml2
    html = _SURROGATE_RE.sub("\ufffd", _CTRL_RE.sub("", html))
    if not html.strip():
        return None
    tree = _load(html)
    if tree is None:
        return None
    count = sum(1 for _ in tree.iter())
    if count > MAX_ELEMENTS:
        # hostile or pathological page: keep its beginning (head + start of body)
        keep = int(len(html) * MAX_ELEMENTS / count * 0.9)
        truncated = _load(html[:keep])
        if truncated is not None:
            tree = truncated
    return tree


def _load(html: str) -> HtmlElement | None:
    try:
        tree = load_html(html)
        if tree is None:
            # fragments without <html> are rejected by trafilatura's loader
            tree = lxml_html.document_fromstring(html.encode("utf-8", "replace"))
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

_BODY_CLASS_RE = re.compile(
    r"article[-_]?body|articlebody|article__body|article-content|article__content|"
    r"articlecontent|entry-content|post-content|post-body|story-body|storybody|"
    r"story-content|body__container|body-text|article-text|articletext|rich-text|"
    r"field-body|content-body|post__content|article__text",
    re.I,
)

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


def _preclean(root: HtmlElement, flags: dict[str, bool]) -> None:
    """Normalise the working copy of the DOM in place before trafilatura sees it."""
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
    seen: set[int] = set()
    for el in to_drop:
        # skip descendants of already dropped nodes
        if any(id(a) in seen for a in el.iterancestors()):
            continue
        seen.add(id(el))
        _drop(el)
    if flags.get("merge", True):
        _merge_split_bodies(root)
    if flags.get("wrap", True):
        _wrap_loose_text(scope)
    if flags.get("linkmark", True):
        _mark_link_blocks(scope)


_INLINE_TAGS = {
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i", "img", "kbd", "mark",
    "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "wbr",
}  # fmt: skip
LOOSE_TEXT_MIN = 80  # direct text (outside any child element) that makes a container worth re-wrapping


def _wrap_loose_text(scope: etree._Element) -> None:
    """Wrap text sitting directly in a <div>/<td> (paragraphs separated by <br>)
    into <p> elements: extractors otherwise drop such text or glue it together."""
    candidates = []
    for el in scope.iter("div", "td", "section", "article"):
        if el.find("br") is None:
            continue
        direct = len((el.text or "").strip()) + sum(len((c.tail or "").strip()) for c in el)
        if direct >= LOOSE_TEXT_MIN:
            candidates.append(el)
    for el in candidates[:200]:
        nodes: list[Any] = []  # sequence of str (text) and elements
        if el.text:
            nodes.append(el.text)
        for child in list(el):
            tail = child.tail
            child.tail = None
            nodes.append(child)
            if tail:
                nodes.append(tail)
            el.remove(child)
        el.text = None
        current: etree._Element | None = None

        def close() -> None:
            nonlocal current
            if current is not None and not (_text_of(current) or len(current)):
                el.remove(current)
            current = None

        for node in nodes:
            if isinstance(node, str):
                if current is None:
                    if not node.strip():
                        if len(el):
                            el[-1].tail = (el[-1].tail or "") + node
                        continue
                    current = etree.SubElement(el, "p")
                    current.text = node
                elif len(current):
                    current[-1].tail = (current[-1].tail or "") + node
                else:
                    current.text = (current.text or "") + node
            elif not isinstance(node.tag, str):
                continue  # comments / processing instructions
            elif node.tag == "br":
                close()
            elif node.tag in _INLINE_TAGS:
                if current is None:
                    current = etree.SubElement(el, "p")
                current.append(node)
            else:
                close()
                el.append(node)
        close()


# Markers prefixed to text blocks that are (mostly) links. They survive
# trafilatura's text cleaning and are removed again in _postprocess.
LINK_MARK = "\u2042"  # >= LINK_SHARE of the block's text is link text
LISTLINK_MARK = "\u2051"  # list item with a link covering a good part of it
LINK_SHARE = 0.7
LISTLINK_SHARE = 0.3
_BLOCK_CHILDREN = {"p", "div", "li", "ul", "ol", "table", "section", "article", "h2", "h3", "h4", "blockquote"}


def _mark_link_blocks(scope: etree._Element) -> None:
    """Prefix text blocks made (almost) only of link text with a marker, so the
    text stage can tell cross-links ("related" lists, teaser lines) from prose."""
    for el in scope.iter("p", "li", "h2", "h3", "h4", "h5", "h6", "dd", "div"):
        if el.tag == "div" and any(isinstance(c.tag, str) and c.tag in _BLOCK_CHILDREN for c in el):
            continue
        if el.tag == "li" and any(isinstance(c.tag, str) and c.tag in ("ul", "ol", "p") for c in el):
            continue
        text = _text_of(el)
        if len(text) < 3:
            continue
        link_len = 0
        for a in el.iter("a"):
            link_len += len(_text_of(a))
        if link_len >= LINK_SHARE * len(text):
            mark = LINK_MARK
        elif el.tag == "li" and link_len >= LISTLINK_SHARE * len(text):
            mark = LISTLINK_MARK
        else:
            continue
        el.text = mark + (el.text or "")
        # <br>-separated link lines become separate text lines: mark each one
        for br in el.iter("br"):
            br.tail = mark + (br.tail or "")


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
        r"don[’']t miss|must read|trending|top stories|editor[’']s picks?|read next|"
        r"click here|tap here|most read|popular)\s*(?::|\||»|›|>|–|—|-{1,2}\s)",
        r"^(?:related (?:articles?|stories|posts|content|coverage|links|reading)|more (?:stories|news|articles|"
        r"from [\w .’'&-]{1,40}|on this (?:story|topic))|most (?:read|popular|viewed|shared)(?: [\w .’'-]{0,40})?|"
        r"popular (?:on|in) [\w .’'-]{1,40}|trending(?: now| stories)?|you (?:may|might) (?:also )?like|"
        r"recommended(?: for you| stories| articles)?|don[’']t miss|read next|what to read next|"
        r"share (?:this|the) (?:article|story|post)|share on \w+|advertisement|sponsored(?: content)?|"
        r"story continues below(?: advertisement)?|continue reading(?: below| the main story)?|"
        r"scroll to continue(?: with content)?|comments?|\d+ comments?|leave a (?:comment|reply)|"
        r"post (?:a )?comment(?: \(\+\))?|tell us what you think\W*|join the (?:conversation|discussion)|"
        r"print(?: article| this article)?|order reprints?|text size|email this article|"
        r"sign up|subscribe(?: now)?|log ?in|sign in)\W*$",
        # newsletters / subscription / app promos
        r"^(?=.{0,250}$)(?=.*\bnewsletters?\b).*\b(?:sign up|subscribe|inbox)\b",
        r"^(?=.{0,250}$)(?=.*\binbox\b).*\b(?:sign up|subscribe|delivered|get the latest)\b",
        r"^(?=.{0,250}$).*\bdelivered (?:to|through) your (?:inbox|letterbox|door)\b",
        r"^(?=.{0,200}$).*\b(?:get|download) (?:the|our) [\w ’'-]{0,40} app\b",
        r"^click here to (?:subscribe|sign up|join|follow|register)",
        # social follow / contact lines
        r"^follow (?:us|him|her|them|me|[\w’'.&@-]+(?: [\w’'.&@-]+){0,5}) on (?:twitter|facebook|instagram|"
        r"linkedin|youtube|tiktok|threads|mastodon|bluesky|x\b)",
        r"^(?:follow|like) (?:us|him|her) (?:on|@)",
        r"^follow .{0,100}\bat https?://\S+$",
        r"^more [\w’' .-]{1,40}:\s*https?://\S+",
        r"^(?:e-?mail|contact|reach|write to|message) (?:the )?(?:author|writer|reporters?|[\w’'.-]+(?: [\w’'.-]+){0,3}) "
        r"(?:at|on|via) (?:\S+@\S+|@\w|https?://|twitter|x\b|linkedin|facebook|signal|instagram)",
        r"\bmay be reached at\b|\bcan be reached at\b|^have a (?:news )?tip\b|^got a (?:news )?tip\b",
        # credits
        r"\bcontributed (?:to )?(?:this|the) (?:report|story|article)\W*$",
        r"^(?:additional |with )?(?:reporting|writing|editing) by\b",
        r"^\(?(?:reporting|writing|editing|compiled) by\b",
        r"^(?:contributing|additional reporting|source|sources|via|image credit|photo credit|credit)\s*:",
        # copyright, reprint and legal furniture
        r"for your personal,? non-commercial use only",
        r"^this (?:material|article|story) may not be (?:published|reproduced)",
        # disclosures and promos
        r"\b(?:may|might) (?:earn|get|receive|collect) (?:a )?(?:small )?(?:affiliate )?commission\b",
        r"\b(?:may|might) (?:earn|get|receive|collect) a (?:small )?share of (?:the )?sales?\b",
        r"\bas an amazon associate\b",
        r"\baffiliate (?:links?|commission)\b.{0,80}$",
        r"^if you (?:enjoyed|liked|value|appreciate)(?: reading)? this (?:article|story|post|content)",
        # subscription walls
        r"^(?:subscribe|sign in|log in|register)(?: now)? to (?:keep|continue) reading",
        r"^this (?:article|story|content|post|page) is (?:only )?(?:available |reserved )?(?:for|to) "
        r"(?:paying |premium )?(?:subscribers|members)\b",
        r"^already (?:a subscriber|have an account)\b",
        r"^start your free trial\b",
        # page chrome
        r"^(?:filed under|tags?|topics?|categories|category|posted in|share this|share)\s*:",
        r"^(?:updated|published|posted|last updated|first published|last modified)\b\s*:?\s(?=.*\d).{0,60}$",
        r"^\d+\s*(?:min(?:ute)?s?|mins?)\.? read\W*$",
        r"^(?:reading time|tempo de leitura|lesezeit|temps de lecture|tiempo de lectura)\s*:",
        r"^(?:an error has occurred|something went wrong),? please try again",
    )
]

# Section headings after which the rest of the text is page furniture
_TAIL_HEAD_RE = re.compile(
    r"^(?:related (?:articles?|stories|posts|content|coverage|links|reading)|more (?:stories|news|articles|"
    r"from [\w .’'&-]{1,40})|most (?:read|popular|viewed|shared)(?: [\w .’'-]{0,40})?|popular (?:on|in) "
    r"[\w .’'-]{1,40}|you (?:may|might) (?:also )?like|recommended(?: for you| stories| articles)?|read next|"
    r"what to read next|comments?|\d+ comments?|leave a (?:comment|reply)|join the (?:conversation|discussion)|"
    r"tell us what you think\W*|about the author|about the authors)\W*$",
    re.I,
)

_BYLINE_LINE_RE = re.compile(
    r"^(?:by|words by|written by|text by|story by|posted by|publicado por|von|par|por|di)\s+"
    r"[\w’'.\- ]{2,80}(?:\s*(?:[|,/·•–—-]|and|&)\s*[\w’'.\- ]{2,60}){0,4}$|^(?:by|por|par|von|di)\s*:?$",
    re.I,
)
# "05/10/2018 - Published by: X - Category: Y" style meta lines above the text
_META_LINE_RE = re.compile(
    r"\b(?:by|por|par|von|di|door|av|posted|published|publicado|publié|veröffentlicht|author|autor|"
    r"updated|category|categoria|tags)\b",
    re.I,
)


# "- Patrick Shanley" / "— Jane Doe" closing an article
_SIGNATURE_RE = re.compile(r"^[-–—]\s*[A-Z][\w’'.-]+(?:\s+[A-Z][\w’'.-]+){1,3}$")


def _is_meta_line(line: str) -> bool:
    s = line.strip()
    return len(s) < 200 and bool(_DATE_SHAPE.search(s)) and bool(_META_LINE_RE.search(s))


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


_DATE_SHAPE = re.compile(
    r"\b(?:" + _MONTHS + r")\b|\b\d{1,4}[./-]\d{1,2}[./-]\d{2,4}\b|\b\d{1,2}:\d{2}\b", re.I
)


def _is_date_line(line: str) -> bool:
    s = line.strip()
    if not s or len(s) > 80:
        return False
    return bool(_DATE_WORDS.match(s)) and any(ch.isdigit() for ch in s) and bool(_DATE_SHAPE.search(s))


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


def _is_heading_like(line: str) -> bool:
    s = line.strip().lstrip("-•* ").strip()
    return 0 < len(s) <= 70 and not s.endswith((".", "?", "!", ":", ";", ",", "\"", "”")) or bool(
        0 < len(s) <= 40 and s.endswith(":")
    )


def _drop_link_lines(lines: list[str], flags: dict[str, bool]) -> list[str]:
    strong = [LINK_MARK in ln for ln in lines]
    weak = [LISTLINK_MARK in ln for ln in lines]
    n = len(lines)
    drop = [False] * n
    if flags.get("link_runs", True):
        k = 0
        while k < n:
            if strong[k]:
                j = k
                while j < n and strong[j]:
                    j += 1
                if j - k >= 2:
                    for m in range(k, j):
                        drop[m] = True
                    if flags.get("link_prev_head", True) and k > 0 and not strong[k - 1] and _is_heading_like(lines[k - 1]):
                        drop[k - 1] = True
                k = j
            else:
                k += 1
    if flags.get("link_tail", True):
        k = n - 1
        while k >= 0 and (strong[k] or drop[k] or (flags.get("listlink_tail", True) and weak[k])):
            drop[k] = True
            k -= 1
    return [ln for ln, d in zip(lines, drop) if not d]


def _postprocess(text: str, titles: list[str], flags: dict[str, bool], urls: Iterable[str] = ()) -> str:
    lines = [ln.rstrip() for ln in text.replace("\r", "\n").split("\n")]
    lines = [ln for ln in lines if ln.replace(LINK_MARK, "").replace(LISTLINK_MARK, "").strip()]
    if not lines:
        return ""
    if flags.get("links", True):
        lines = _drop_link_lines(lines, flags)
    lines = [ln.replace(LINK_MARK, "").replace(LISTLINK_MARK, "") for ln in lines]
    lines = [ln for ln in lines if ln.strip()]
    if flags.get("lines", True):
        lines = [ln for ln in lines if not _is_boiler_line(ln)]
        page_urls = {u.strip().rstrip("/") for u in urls if u}
        if page_urls:
            lines = [ln for ln in lines if ln.strip().rstrip("/") not in page_urls]
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
            if flags.get("meta_lead", True) and _is_meta_line(ln):
                i += 1
                continue
            break
        lines = lines[i:]
        if flags.get("title_any", True) and variants:
            # the headline repeated further down (sticky headers, share boxes)
            full = {v for v in variants if len(v.split()) >= 4}
            lines = [ln for ln in lines if _norm(ln) not in full]
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
        # trailing byline/date/signature lines
        while lines and (
            _is_date_line(lines[-1]) or _BYLINE_LINE_RE.match(lines[-1].strip()) or _SIGNATURE_RE.match(lines[-1].strip())
        ):
            lines.pop()
    return "\n".join(lines).strip()


# --------------------------------------------------------------------------------------
# body extraction
# --------------------------------------------------------------------------------------

# Every stage can be switched off, for ablation runs:
#   python benchmarks/extraction.py ... --disable header,boiler
DEFAULT_FLAGS: dict[str, bool] = {
    # DOM stage (_preclean)
    "hidden": True,  # hidden / display:none elements
    "header": True,  # <header> blocks (headline, dek, byline, date)
    "boiler": True,  # furniture by class/id words
    "merge": True,  # merge split article-body containers
    "wrap": True,  # <br>-separated loose text -> <p>
    "linkmark": True,  # mark link-only blocks
    # text stage (_postprocess)
    "links": True,  # act on link marks ...
    "link_runs": True,  # ... runs of 2+ link-only lines
    "link_prev_head": True,  # ... and the short heading right above such a run
    "link_tail": True,  # ... link-only lines closing the text
    "listlink_tail": True,  # ... list items with links closing the text
    "lines": True,  # boilerplate line patterns, page-URL lines, closing signatures
    "lead": True,  # headline/byline/date lines above the text
    "meta_lead": True,  # "05/10/2018 - Published by X - Tags: ..." above the text
    "title_any": True,  # the headline repeated anywhere
    "tail": True,  # cut at a trailing "Related articles"/"Comments" heading
    # candidate choice
    "fallback": True,  # untouched-page extraction when the cleaned one is much shorter
    "rescue": True,  # trafilatura with its external fallbacks when both found almost nothing
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


# A cleaned-page extraction shorter than this share of the raw-page one is taken
# as a sign that the DOM clean-up misled the extractor's container choice.
FALLBACK_RATIO = 0.5


def _extract_body_from_tree(
    tree: HtmlElement,
    url: str | None,
    titles: list[str],
    flags: dict[str, bool] | None = None,
) -> tuple[str, str]:
    flags = {**DEFAULT_FLAGS, **(flags or {})}
    work = deepcopy(tree)
    try:
        _preclean(work, flags)
    except Exception:  # noqa: BLE001
        LOG.debug("preclean failed", exc_info=True)
        work = deepcopy(tree)
    urls = [url or ""]
    main = _postprocess(_run_trafilatura(work, url), titles, flags, urls)
    if not flags.get("fallback", True):
        return main, "trafilatura"
    raw = _postprocess(_run_trafilatura(tree, url), titles, flags, urls)
    best, source = (raw, "trafilatura-raw") if len(main) < FALLBACK_RATIO * len(raw) else (main, "trafilatura")
    if len(best) < MIN_ARTICLE_BODY and flags.get("rescue", True):
        # nearly nothing found: let trafilatura try its slower external fallbacks too
        rescue = _postprocess(_run_trafilatura(tree, url, fast=False), titles, flags, urls)
        if len(rescue) > len(best):
            best, source = rescue, "trafilatura-fallback"
    return best, source


# --------------------------------------------------------------------------------------
# page context: meta tags, links and JSON-LD, read once
# --------------------------------------------------------------------------------------

ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "reviewnewsarticle",
    "backgroundnewsarticle",
    "askpublicnewsarticle",
    "blogposting",
    "liveblogposting",
    "techarticle",
    "report",
    "scholarlyarticle",
    "socialmediaposting",
}
INDEX_TYPES = {"collectionpage", "itemlist", "searchresultspage", "website", "profilepage"}
MAX_LD_SCRIPT_CHARS = 2_000_000


def _ld_types(obj: dict) -> set[str]:
    t = obj.get("@type")
    names = [t] if isinstance(t, str) else [x for x in t if isinstance(x, str)] if isinstance(t, list) else []
    # "NewsArticle", "schema:NewsArticle", "https://schema.org/NewsArticle"
    return {re.split(r"[/:]", x.strip().lower())[-1] for x in names[:10]}


def _walk_ld(obj: Any, depth: int = 0) -> Iterator[dict]:
    if depth > 6:
        return
    if isinstance(obj, list):
        for x in obj[:200]:
            yield from _walk_ld(x, depth + 1)
    elif isinstance(obj, dict):
        yield obj
        # not itemListElement: articles listed on an index page are not this page's article
        for key in ("@graph", "mainEntity"):
            if key in obj:
                yield from _walk_ld(obj[key], depth + 1)


def _jsonld_objects(tree: HtmlElement) -> list[dict]:
    """All JSON-LD objects of the page (flattened @graph/lists); broken blocks are skipped."""
    out: list[dict] = []
    try:
        scripts = tree.xpath('//script[contains(translate(@type,"LDJSON","ldjson"),"ld+json")]')
    except Exception:  # noqa: BLE001
        return out
    for script in scripts[:30]:
        raw = (script.text or "").strip()
        if not raw or len(raw) > MAX_LD_SCRIPT_CHARS:
            continue
        raw = re.sub(r"^<!--|-->$|^//\s*<!\[CDATA\[|//\s*\]\]>$", "", raw).strip()
        try:
            data = json.loads(raw, strict=False)
        except Exception:  # noqa: BLE001 - broken JSON-LD is common: one repair attempt, else skip
            try:
                data = json.loads(re.sub(r",\s*([}\]])", r"\1", raw), strict=False)
            except Exception:  # noqa: BLE001
                continue
        out.extend(_walk_ld(data))
    return out


class _Page:
    """The parsed page with its metadata sources, read once."""

    def __init__(self, tree: HtmlElement, url: str) -> None:
        self.tree = tree
        self.url = url
        self.meta: dict[str, list[str]] = {}
        self.links: dict[str, list[str]] = {}
        head_and_body = tree
        try:
            for m in head_and_body.iter("meta"):
                key = (m.get("property") or m.get("name") or m.get("itemprop") or m.get("http-equiv") or "").strip()
                val = m.get("content")
                if not key or val is None:
                    continue
                key = key.lower()[:100]
                val = _clean_ws(val[:5000])
                if val:
                    self.meta.setdefault(key, []).append(val)
            for ln in tree.iter("link"):
                rels = (ln.get("rel") or "").lower().split()
                href = ln.get("href")
                if href:
                    for rel in rels:
                        self.links.setdefault(rel, []).append(href.strip()[:4096])
        except Exception:  # noqa: BLE001
            LOG.debug("meta scan failed", exc_info=True)
        self.ld = _jsonld_objects(tree)
        self.ld_articles = [o for o in self.ld if _ld_types(o) & ARTICLE_TYPES]
        self.article_ld: dict = self.ld_articles[0] if self.ld_articles else {}
        # prefer the article object that carries the most fields (pages list related articles too)
        if len(self.ld_articles) > 1:
            self.article_ld = max(
                self.ld_articles,
                key=lambda o: (bool(o.get("articleBody")), bool(o.get("datePublished")), bool(o.get("headline"))),
            )

    def m(self, *keys: str) -> str | None:
        for k in keys:
            vals = self.meta.get(k)
            if vals:
                return vals[0]
        return None

    def m_all(self, *keys: str) -> list[str]:
        out: list[str] = []
        for k in keys:
            out.extend(self.meta.get(k, []))
        return out

    def ld_get(self, key: str) -> Any:
        return self.article_ld.get(key)


# --------------------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------------------


def _abs_http_url(value: Any, base: str) -> str | None:
    """Absolute http(s) URL or None (javascript:, data:, garbage)."""
    if not isinstance(value, str):
        return None
    value = _clean_ws(value).replace(" ", "%20")
    if not value or len(value) > 2048:
        return None
    try:
        absolute = urljoin(base or "", value)
        parts = urlsplit(absolute)
    except Exception:  # noqa: BLE001
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return absolute


def _host(url: str | None) -> str:
    try:
        return (urlsplit(url).hostname or "") if url else ""
    except ValueError:
        return ""


def _ld_url(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for k in ("@id", "url", "contentUrl"):
            if isinstance(value.get(k), str):
                return value[k]
    if isinstance(value, list):
        for v in value:
            u = _ld_url(v)
            if u:
                return u
    return None


def _canonical(page: _Page) -> str | None:
    candidates: list[Any] = []
    candidates.extend(page.links.get("canonical", [])[:1])
    candidates.append(page.m("og:url"))
    candidates.append(_ld_url(page.ld_get("mainEntityOfPage")))
    candidates.append(page.ld_get("url") if isinstance(page.ld_get("url"), str) else None)
    for c in candidates:
        u = _abs_http_url(c, page.url)
        if u:
            return u
    return None


def _amp_url(page: _Page) -> str | None:
    for href in page.links.get("amphtml", [])[:1]:
        return _abs_http_url(href, page.url)
    return None


_IMG_SKIP_RE = re.compile(r"logo|icon|avatar|sprite|spacer|pixel|blank|placeholder|badge", re.I)


def _lead_image(page: _Page) -> str | None:
    candidates: list[Any] = [
        page.m("og:image:secure_url", "og:image:url", "og:image"),
        page.m("twitter:image", "twitter:image:src"),
        _ld_url(page.ld_get("image")),
        _ld_url(page.ld_get("thumbnailUrl")),
    ]
    for c in candidates:
        u = _abs_http_url(c, page.url)
        if u:
            return u
    # else the first real image inside the article container (never the site logo)
    try:
        containers = page.tree.xpath('//article | //*[@itemprop="articleBody"] | //main')
        if not containers:
            containers = [el for el in page.tree.iter("div", "section") if _BODY_CLASS_RE.search(el.get("class") or "")]
        for container in containers[:3]:
            for img in container.iter("img"):
                if img.get("width") in ("1", "0") or img.get("height") in ("1", "0"):
                    continue
                for attr in ("src", "data-src", "data-original", "data-lazy-src"):
                    u = _abs_http_url(img.get(attr), page.url)
                    if u and not _IMG_SKIP_RE.search(u):
                        return u
    except Exception:  # noqa: BLE001
        pass
    return None


# --------------------------------------------------------------------------------------
# dates
# --------------------------------------------------------------------------------------

# Only abbreviations with one meaning; others (CST, IST, BST...) fall back to the source's zone.
_TZ_ABBR: dict[str, Any] = {
    "UTC": timezone.utc,
    "GMT": timezone.utc,
    "Z": timezone.utc,
    "PST": timezone(timedelta(hours=-8)),
    "PDT": timezone(timedelta(hours=-7)),
    "EST": timezone(timedelta(hours=-5)),
    "EDT": timezone(timedelta(hours=-4)),
    "PT": "America/Los_Angeles",
    "ET": "America/New_York",
    "CT": "America/Chicago",
    "MT": "America/Denver",
}
# Zone abbreviations we recognise but do not trust (several meanings, e.g. CST =
# US Central or China Standard Time): removed so the source's zone applies.
_UNTRUSTED_TZ = (
    "CST CDT MST MDT IST BST CET CEST EET EEST WET WEST JST KST HKT SGT AEST AEDT ACST AWST NZST NZDT MSK "
    "WIB PHT ICT AKST AKDT HST AST ADT NST NDT SAST WAT EAT CAT BRT ART GST PKT NPT MYT"
).split()
_TZ_TOKEN_RE = re.compile(r"(?<![A-Za-z])(?:" + "|".join([*(k for k in _TZ_ABBR if k != "Z"), *_UNTRUSTED_TZ]) + r")(?![A-Za-z])")
_AMPM_RE = re.compile(r"\b([ap])\.?\s?m\b\.?", re.I)
_YEAR_RE = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_DOTTED_DATE_RE = re.compile(r"^\s*\d{1,2}\.\d{1,2}\.\d{2,4}")
_SLASH_DATE_RE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/\d{2,4}")
_EPOCH_RE = re.compile(r"^\d{10}(?:\d{3})?$")
EARLIEST_YEAR = 1995


def _zone(name: str | None) -> Any:
    if not name or ZoneInfo is None:
        return timezone.utc
    if name.upper() in ("UTC", "GMT", "Z"):
        return timezone.utc
    try:
        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - unknown zone names fall back to UTC
        return timezone.utc


def parse_date(value: Any, default_timezone: str = "UTC", now: datetime | None = None) -> datetime | None:
    """Parse a date string to an aware UTC datetime; None if unparsable or implausible."""
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        if isinstance(value, (int, float)):
            value = str(int(value))
        if not isinstance(value, str):
            return None
        s = _clean_ws(value)[:100]
        if not s:
            return None
        dt = _parse_date_str(s, default_timezone)
        if dt is None:
            return None
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        dt = dt.replace(tzinfo=_zone(default_timezone))
    try:
        dt = dt.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None
    now = now or datetime.now(timezone.utc)
    if dt.year < EARLIEST_YEAR or dt > now + timedelta(days=1):
        return None
    return dt


def _parse_date_str(s: str, default_timezone: str) -> datetime | None:
    if _EPOCH_RE.match(s):
        try:
            secs = int(s[:10])
            return datetime.fromtimestamp(secs, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if not _YEAR_RE.search(s):
        return None
    iso = s.replace("Z", "+00:00") if s.endswith("Z") else s
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    from dateutil import parser as dparser  # local import: only needed for non-ISO strings

    text = _AMPM_RE.sub(lambda m: f" {m.group(1).upper()}M", s)
    text = re.sub(r"\b(?:at|um|à|às|a las|alle|om)\b", " ", text, flags=re.I)
    text = re.sub(r"\b(?:updated|published|posted|last modified|modified|on)\b:?", " ", text, flags=re.I)
    text = text.replace("|", " ").replace("·", " ").replace("•", " ")
    found: list[str] = []

    def _take_zone(m: re.Match) -> str:
        found.append(m.group(0))
        return " "  # trusted or not, the token goes: untrusted ones mean the source's zone applies

    text = _TZ_TOKEN_RE.sub(_take_zone, text)
    tz: Any = next((_TZ_ABBR[a] for a in found if a in _TZ_ABBR), None)
    dayfirst = bool(_DOTTED_DATE_RE.match(text))
    sm = _SLASH_DATE_RE.match(text)
    if sm and int(sm.group(1)) > 12:
        dayfirst = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown tz names: the source's zone applies
            dt = dparser.parse(_clean_ws(text), dayfirst=dayfirst, fuzzy=True, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError, TypeError):
        return None
    if dt.tzinfo is not None and tz is None:
        return dt
    if tz is not None:
        zone = _zone(tz) if isinstance(tz, str) else tz
        dt = dt.replace(tzinfo=zone)
    return dt


def _dates(page: _Page, default_timezone: str) -> tuple[datetime | None, datetime | None]:
    def first(values: Iterable[Any]) -> datetime | None:
        for v in values:
            if isinstance(v, list):
                v = v[0] if v else None
            d = parse_date(v, default_timezone)
            if d is not None:
                return d
        return None

    pub_sources: list[Any] = [page.ld_get("datePublished"), page.ld_get("dateCreated")]
    pub_sources += page.m_all(
        "article:published_time",
        "og:published_time",
        "article:published",
        "published_time",
        "parsely-pub-date",
        "sailthru.date",
        "dc.date.issued",
        "dc.date",
        "dcterms.date",
        "dcterms.created",
        "dcterms.issued",
        "citation_publication_date",
        "date",
        "pubdate",
        "publishdate",
        "publish-date",
        "article.published",
        "datepublished",
        "og:pubdate",
        "cxenseparse:recs:publishtime",
    )
    published = first(pub_sources)
    if published is None:
        published = first(_time_elements(page.tree))
    if published is None:
        published = first(_date_text_candidates(page.tree))
    upd_sources: list[Any] = [page.ld_get("dateModified")]
    upd_sources += page.m_all(
        "article:modified_time",
        "og:updated_time",
        "article:modified",
        "modified_time",
        "dcterms.modified",
        "last-modified",
        "lastmod",
        "datemodified",
    )
    updated = first(upd_sources)
    return published, updated


_DATE_CLASS_RE = re.compile(r"date|time|posted|published|dateline|byline|meta", re.I)


def _date_text_candidates(tree: HtmlElement) -> list[str]:
    """Short text of date-ish elements ("Posted: 2024-03-28 22:40"), in page order."""
    out: list[str] = []
    try:
        body = tree.find("body")
        scope = body if body is not None else tree
        for el in scope.iter("p", "span", "div", "small", "li", "em", "address"):
            ci = _classid(el)
            if not ci.strip() or not _DATE_CLASS_RE.search(ci) or _in_comments_or_form(el):
                continue
            text = _text_of(el)
            if 6 <= len(text) <= 120 and _YEAR_RE.search(text):
                out.append(text)
            if len(out) >= 5:
                break
    except Exception:  # noqa: BLE001
        pass
    return out


def _time_elements(tree: HtmlElement) -> list[str]:
    out: list[str] = []
    try:
        preferred = tree.xpath(
            '//*[@itemprop="datePublished"]/@content | //*[@itemprop="datePublished"]/@datetime'
            " | //time[@pubdate]/@datetime"
        )
        out.extend(str(v) for v in preferred[:3])
        for t in tree.iter("time"):
            v = t.get("datetime") or _text_of(t)
            if v:
                out.append(v[:100])
            if len(out) > 8:
                break
    except Exception:  # noqa: BLE001
        pass
    return out


# --------------------------------------------------------------------------------------
# authors
# --------------------------------------------------------------------------------------

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
_EMAIL_OR_URL_RE = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|@\w+")


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


_COMMENTISH_RE = re.compile(
    r"(?:^|[\s_-])(?:comments?|commentlist|respond|reply|replies|disqus|discussion)(?:$|[\s_-])", re.I
)


def _in_comments_or_form(el: etree._Element) -> bool:
    for node in [el, *el.iterancestors()]:
        if node.tag == "form":
            return True
        if _COMMENTISH_RE.search(_classid(node)):
            return True
    return False


def _byline_candidates(tree: HtmlElement) -> list[str]:
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
        if not out:
            # plain-text bylines: short blocks starting with "By ..."
            for n, el in enumerate(scope.iter("p", "div", "span", "address", "li")):
                if n > 5000:
                    break
                if len(el) > 4:
                    continue
                text = _text_of(el)
                if 5 <= len(text) <= 200:
                    m = _BYLINE_TEXT_RE.match(text)
                    if m:
                        out.append(m.group(1))
                        break
    except Exception:  # noqa: BLE001
        pass
    return out


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
    return clean_authors(_byline_candidates(page.tree), orgs, min_words=2)


# --------------------------------------------------------------------------------------
# other fields
# --------------------------------------------------------------------------------------

_TAG_RE = re.compile(r"<[^>]*>")
_SCRIPT_BLOCK_RE = re.compile(r"(?is)<(script|style)\b.*?(?:</\1\s*>|$)")


def _plain(value: Any, limit: int = 2000) -> str:
    if not isinstance(value, str):
        return ""
    text = htmllib.unescape(value[: limit * 4])
    text = _SCRIPT_BLOCK_RE.sub(" ", text)
    text = _TAG_RE.sub(" ", text)
    return _clean_ws(text)[:limit]


def _title(page: _Page, site_name: str | None) -> str:
    candidates: list[Any] = [
        page.ld_get("headline"),
        page.m("og:title"),
        page.m("twitter:title"),
        page.m("parsely-title", "sailthru.title", "dc.title", "dcterms.title", "title"),
        page.ld_get("name"),
    ]
    try:
        h1 = page.tree.find(".//h1")
        if h1 is not None:
            candidates.append(_text_of(h1))
    except Exception:  # noqa: BLE001
        pass
    host = _host(page.url)
    for c in candidates:
        if isinstance(c, list):
            c = next((x for x in c if isinstance(x, str)), None)
        text = _plain(c, 500)
        if text:
            return _strip_site_suffix(text, site_name, host, loose=False)
    try:
        t = page.tree.find(".//title")
        if t is not None:
            return _strip_site_suffix(_plain(_text_of(t), 500), site_name, host, loose=True)
    except Exception:  # noqa: BLE001
        pass
    return ""


_TITLE_SEP_RE = re.compile(r"\s+[|–—·»:-]\s+")


def _strip_site_suffix(title: str, site_name: str | None, host: str = "", loose: bool = False) -> str:
    """Drop a trailing " | Site Name" (or, for <title>, any short trailing part)."""
    parts = _TITLE_SEP_RE.split(title)
    if len(parts) < 2:
        return title
    last = _norm(parts[-1]).replace(" ", "")
    names = {_norm(site_name or "").replace(" ", "")}
    if host:
        h = host.lower().removeprefix("www.")
        names |= {h.replace(".", ""), h.split(".")[0]}
    names.discard("")
    head = title[: title.rfind(parts[-1])].rstrip(" |–—·»:-")
    if last and any(last == n or last.startswith(n) or n.startswith(last) for n in names if len(n) >= 3):
        return head or title
    if loose and len(parts[-1]) < 0.5 * len(head):
        return head or title
    return title


def _site_name(page: _Page) -> str | None:
    candidates: list[Any] = [page.m("og:site_name")]
    pub = page.ld_get("publisher")
    if isinstance(pub, dict):
        candidates.append(pub.get("name"))
    for o in page.ld:
        if "website" in _ld_types(o):
            candidates.append(o.get("name"))
    candidates.append(page.m("application-name", "apple-mobile-web-app-title", "twitter:site"))
    for c in candidates:
        text = _plain(c, 200)
        if text and not (text.startswith("@") and " " not in text) and not _EMAIL_OR_URL_RE.search(text):
            return text
    return None


_LANG_RE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]{2,8})*$")

# tiny stop-word guesser for pages that do not declare their language
_STOPWORDS = {
    "en": "the and of to in is that for it with as was on are by this be from have",
    "de": "der die und das ist nicht zu den von mit sich des auf für im dem ein eine",
    "fr": "le la les et des est une pour dans que qui pas sur au avec du ce il",
    "es": "el la de que y en los del se las por un para con una es al lo",
    "it": "il di che la è per un una non sono del della con gli le si da",
    "pt": "o a de que e do da em um para é com não uma os no se na por",
    "nl": "de het een en van is dat op te in zijn voor met niet die er",
}
_STOPSETS = {k: set(v.split()) for k, v in _STOPWORDS.items()}


def _guess_language(text: str) -> str | None:
    sample = text[:4000]
    if not sample.strip():
        return None
    letters = [ch for ch in sample if ch.isalpha()]
    if not letters:
        return None
    scripts = {"ja": 0, "zh": 0, "ko": 0, "ru": 0, "ar": 0, "el": 0, "he": 0, "th": 0, "hi": 0}
    for ch in letters:
        o = ord(ch)
        if 0x3040 <= o <= 0x30FF:
            scripts["ja"] += 1
        elif 0x4E00 <= o <= 0x9FFF:
            scripts["zh"] += 1
        elif 0xAC00 <= o <= 0xD7AF:
            scripts["ko"] += 1
        elif 0x0400 <= o <= 0x04FF:
            scripts["ru"] += 1
        elif 0x0600 <= o <= 0x06FF:
            scripts["ar"] += 1
        elif 0x0370 <= o <= 0x03FF:
            scripts["el"] += 1
        elif 0x0590 <= o <= 0x05FF:
            scripts["he"] += 1
        elif 0x0E00 <= o <= 0x0E7F:
            scripts["th"] += 1
        elif 0x0900 <= o <= 0x097F:
            scripts["hi"] += 1
    if scripts["ja"] > 0.05 * len(letters):
        return "ja"
    best_script = max(scripts, key=lambda k: scripts[k])
    if scripts[best_script] > 0.3 * len(letters):
        return best_script
    words = re.findall(r"[a-zà-ÿ]+", sample.lower())
    if len(words) < 20:
        return None
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOPSETS.items()}
    lang = max(scores, key=lambda k: scores[k])
    return lang if scores[lang] >= 0.1 * len(words) else None


def _language(page: _Page, body: str) -> str | None:
    candidates: list[Any] = []
    try:
        candidates.append(page.tree.get("lang") or page.tree.get("xml:lang"))
    except Exception:  # noqa: BLE001
        pass
    candidates += [
        page.m("og:locale"),
        page.ld_get("inLanguage"),
        page.m("content-language", "dc.language", "language"),
    ]
    for c in candidates:
        if isinstance(c, dict):
            c = c.get("name") or c.get("alternateName")
        if not isinstance(c, str):
            continue
        m = _LANG_RE.match(c.strip())
        if m:
            return m.group(1).lower()
    return _guess_language(body)


def _tags(page: _Page) -> list[str]:
    raw: list[str] = list(page.m_all("article:tag"))
    kw = page.ld_get("keywords")
    if isinstance(kw, str):
        raw.extend(kw.split(","))
    elif isinstance(kw, list):
        raw.extend(k for k in kw if isinstance(k, str))
    for v in page.m_all("news_keywords", "parsely-tags", "sailthru.tags"):
        raw.extend(v.split(","))
    out: list[str] = []
    seen: set[str] = set()
    for t in raw:
        t = _plain(t, 200).lstrip("#").strip()
        # "@river", "/article", "_no-apple-news": CMS-internal markers, not topics
        if not t or len(t) > 100 or not t[0].isalnum():
            continue
        key = t.lower()
        if key in seen:
            continue
        seen.add(key)
        out.append(t)
    return out[:50]


def _summary(page: _Page, body: str) -> str:
    for c in (
        page.ld_get("description"),
        page.m("description"),
        page.m("og:description"),
        page.m("twitter:description"),
        page.ld_get("abstract"),
    ):
        text = _plain(c, 1000)
        if len(text) >= 20:
            return text
    return _first_sentences(body)


def _first_sentences(body: str, limit: int = 300) -> str:
    text = _clean_ws(body)
    if len(text) <= limit:
        return text
    sentences = re.split(r"(?<=[.!?。])\s+", text)
    out = ""
    for s in sentences:
        if out and len(out) + len(s) + 1 > limit:
            break
        out = f"{out} {s}".strip()
    return out[:limit] if out else text[:limit].rsplit(" ", 1)[0]


# --------------------------------------------------------------------------------------
# paywall and page kind
# --------------------------------------------------------------------------------------

_PAYWALL_MARKUP_RE = re.compile(
    r"(?:^|[\s_-])(?:paywall|pay-wall|regwall|subscriber-only|subscribers-only|premium-content|"
    r"piano-offer|meteredcontent|subscription-required|locked-content|article-locked)(?:$|[\s_-])",
    re.I,
)
PAYWALL_SHORT_BODY = 1500


def _false_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value is False
    if isinstance(value, str):
        return value.strip().lower() in ("false", "no", "0")
    return False


def _paywalled(page: _Page, body: str) -> bool:
    for o in page.ld_articles or page.ld:
        if _false_flag(o.get("isAccessibleForFree")):
            return True
        parts = o.get("hasPart")
        parts = parts if isinstance(parts, list) else [parts]
        for part in parts[:20]:
            if isinstance(part, dict) and _false_flag(part.get("isAccessibleForFree")) and part.get("cssSelector"):
                return True
    tier = (page.m("article:content_tier") or "").lower()
    if tier == "locked":
        return True
    if len(body) < PAYWALL_SHORT_BODY:
        try:
            body_el = page.tree.find("body")
            scope = body_el if body_el is not None else page.tree
            for el in scope.iter():
                if isinstance(el.tag, str) and (el.get("class") or el.get("id")) and _PAYWALL_MARKUP_RE.search(_classid(el)):
                    return True
        except Exception:  # noqa: BLE001
            pass
    return False


# listing URLs: /tag/<x>/, /category/<x>/page/2/, /author/<x>, /search, /page/3, /latest, /index.html
_INDEX_PATH_RE = re.compile(
    r"/(?:tags?|category|categories|topics?|section|sections|authors?|archives?)(?:/[^/]+)?/?(?:page/\d+/?)?$"
    r"|/(?:page/\d+|search|latest|index(?:\.\w+)?)/?$",
    re.I,
)
MIN_ARTICLE_BODY = 250
_DATE_PATH_RE = re.compile(r"/(?:19|20)\d{2}/\d{1,2}/")


def _is_article(page: _Page, body: str, published: datetime | None, authors: list[str]) -> bool:
    try:
        parts = urlsplit(page.url or "")
    except Exception:  # noqa: BLE001
        parts = urlsplit("")
    path = parts.path or "/"
    if path in ("", "/") and not parts.query:
        return False
    if len(body) < MIN_ARTICLE_BODY:
        return False
    og_type = (page.m("og:type") or "").lower()
    strong = bool(page.ld_articles) or og_type == "article" or bool(page.m("article:published_time"))
    if _INDEX_PATH_RE.search(path) and not strong:
        return False
    main_types: set[str] = set()
    for o in page.ld:
        main_types |= _ld_types(o)
    if not strong and main_types & INDEX_TYPES - {"website"}:
        return False
    if strong:
        return True
    if og_type and og_type not in ("article", "website"):
        return False
    slug = path.rstrip("/").rsplit("/", 1)[-1]
    article_like_url = slug.count("-") >= 3 or bool(_DATE_PATH_RE.search(path)) or bool(re.search(r"\d{5,}", slug))
    if len(body) >= 1500 or (len(body) >= 600 and (published is not None or bool(authors))):
        return True
    return article_like_url and len(body) >= 400


# --------------------------------------------------------------------------------------
# body candidates and the public entry points
# --------------------------------------------------------------------------------------

JSONLD_MIN_BODY = 500  # a JSON-LD body shorter than this is a teaser, not the article
JSONLD_LONGER = 1.5  # ... and it must be this much longer than the HTML text
JSONLD_AGREEMENT = 0.8  # ... while containing this share of the HTML text's 4-grams


def _titles_for_cleanup(page: _Page) -> list[str]:
    out: list[Any] = [page.m("og:title"), page.m("twitter:title"), page.ld_get("headline")]
    try:
        out.extend(_text_of(h) for h in page.tree.iter("h1"))
        t = page.tree.find(".//title")
        if t is not None:
            out.append(_text_of(t))
    except Exception:  # noqa: BLE001
        pass
    return [t for t in (_plain(x, 500) for x in out[:12]) if t]


def _ld_body_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        return ""
    text = value[:500_000]
    if "<" in text:
        text = re.sub(r"(?i)<\s*(?:br|/p|/h[1-6]|/li|/div|/blockquote)\s*/?>", "\n", text)
        text = _TAG_RE.sub(" ", text)
    text = htmllib.unescape(text)
    lines = [_clean_ws(ln) for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln)


def _select(tree: HtmlElement, selector: str) -> list[etree._Element]:
    try:
        from lxml.cssselect import CSSSelector

        return list(CSSSelector(selector)(tree))
    except Exception:  # noqa: BLE001 - bad selectors from the registry must not break a crawl
        LOG.warning("invalid CSS selector ignored: %r", selector)
        return []


def _apply_drop_selectors(tree: HtmlElement, selectors: Iterable[str]) -> HtmlElement:
    selectors = [s for s in selectors if isinstance(s, str) and s.strip()]
    if not selectors:
        return tree
    work = deepcopy(tree)
    for sel in selectors:
        for el in _select(work, sel):
            if el.getparent() is not None:
                _drop(el)
    return work


def _override_body(tree: HtmlElement, selector: str, url: str, titles: list[str]) -> str:
    elements = _select(tree, selector)
    if not elements:
        return ""
    doc = load_html("<html><head></head><body><article></article></body></html>")
    if doc is None:
        return ""
    holder = doc.find(".//article")
    for el in elements[:20]:
        holder.append(deepcopy(el))
    text = _postprocess(_run_trafilatura(doc, url), titles, DEFAULT_FLAGS, [url])
    plain_len = sum(len(_text_of(el)) for el in elements[:20])
    if len(text) < 0.3 * plain_len:
        # trafilatura judged the selected block as boilerplate: trust the registry
        blocks: list[str] = []
        for el in elements[:20]:
            for b in el.iter("p", "h2", "h3", "h4", "li", "blockquote", "pre"):
                t = _text_of(b)
                if t:
                    blocks.append(t)
            if not blocks:
                blocks.append(_text_of(el))
        text = "\n".join(blocks)
    return text


def _choose_body(page: _Page, overrides: ExtractOverrides | None) -> tuple[str, str]:
    titles = _titles_for_cleanup(page)
    tree = page.tree
    if overrides is not None and overrides.drop_selectors:
        tree = _apply_drop_selectors(tree, overrides.drop_selectors)
    if overrides is not None and overrides.body_selector:
        text = _override_body(tree, overrides.body_selector, page.url, titles)
        if text.strip():
            return text, "override"
    text, source = _extract_body_from_tree(tree, page.url, titles)
    ld_text = _ld_body_text(page.ld_get("articleBody"))
    if len(ld_text) >= JSONLD_MIN_BODY:
        if _norm(ld_text) == _norm(text):
            # same words (trafilatura itself falls back to JSON-LD): keep its paragraph breaks
            return ld_text, "jsonld"
        if len(text) < MIN_ARTICLE_BODY or (
            len(ld_text) > JSONLD_LONGER * len(text) and _containment(text, ld_text) >= JSONLD_AGREEMENT
        ):
            return ld_text, "jsonld"
    return text, source


def _empty_article(url: str) -> ExtractedArticle:
    return ExtractedArticle(
        url=url,
        canonical_url=None,
        amp_url=None,
        title="",
        authors=[],
        published=None,
        updated=None,
        language=None,
        lead_image=None,
        summary="",
        body="",
        tags=[],
        site_name=None,
        paywalled=False,
        is_article=False,
        body_source="none",
    )


def extract_article(
    html: str,
    url: str,
    *,
    default_timezone: str = "UTC",
    overrides: ExtractOverrides | None = None,
) -> ExtractedArticle:
    """Extract metadata and main text. Never raises: bad input gives an empty body."""
    url = url if isinstance(url, str) else ""
    try:
        tree = _parse(html)
    except Exception:  # noqa: BLE001
        tree = None
    if tree is None:
        return _empty_article(url)
    try:
        page = _Page(tree, url)
    except Exception:  # noqa: BLE001
        LOG.debug("page context failed", exc_info=True)
        return _empty_article(url)
    art = _empty_article(url)
    # each field on its own: one failing extractor must not cost the others
    steps: list[tuple[str, Any]] = [
        ("site_name", lambda: _site_name(page)),
        ("canonical_url", lambda: _canonical(page)),
        ("amp_url", lambda: _amp_url(page)),
    ]
    for name, fn in steps:
        try:
            setattr(art, name, fn())
        except Exception:  # noqa: BLE001
            LOG.debug("field %s failed", name, exc_info=True)
    try:
        art.body, art.body_source = _choose_body(page, overrides)
    except Exception:  # noqa: BLE001
        LOG.debug("body failed", exc_info=True)
        art.body, art.body_source = "", "none"
    if not art.body:
        art.body_source = "none"
    more: list[tuple[str, Any]] = [
        ("title", lambda: _title(page, art.site_name)),
        ("authors", lambda: _authors(page, art.site_name)),
        ("language", lambda: _language(page, art.body)),
        ("lead_image", lambda: _lead_image(page)),
        ("summary", lambda: _summary(page, art.body)),
        ("tags", lambda: _tags(page)),
        ("paywalled", lambda: _paywalled(page, art.body)),
    ]
    for name, fn in more:
        try:
            setattr(art, name, fn())
        except Exception:  # noqa: BLE001
            LOG.debug("field %s failed", name, exc_info=True)
    try:
        art.published, art.updated = _dates(page, default_timezone)
    except Exception:  # noqa: BLE001
        LOG.debug("dates failed", exc_info=True)
    try:
        art.is_article = _is_article(page, art.body, art.published, art.authors)
    except Exception:  # noqa: BLE001
        art.is_article = False
    return art


def extract_body(html: str, url: str | None = None) -> str:
    """Just the main text, paragraphs separated by newlines (used by the benchmark)."""
    try:
        tree = _parse(html)
        if tree is None:
            return ""
        return _choose_body(_Page(tree, url or ""), None)[0]
    except Exception:  # noqa: BLE001
        LOG.debug("extract_body failed", exc_info=True)
        return ""
