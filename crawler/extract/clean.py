"""DOM normalisation before the text extractor (``_preclean``).

Works on a copy of the tree: drops hidden elements, <header> blocks and page furniture
found by class/id words, merges an article body split over sibling containers, wraps
<br>-separated loose text into <p>, and marks link-only blocks for the text stage."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from crawler.extract.page import _classid, _text_of

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
