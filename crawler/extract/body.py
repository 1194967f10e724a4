"""The article's main text: trafilatura candidates on the cleaned and the untouched
page, registry overrides, and the JSON-LD ``articleBody`` when the HTML is a teaser."""

from __future__ import annotations

import html as htmllib
import logging
import re
import unicodedata
from copy import deepcopy
from typing import Any, Iterable

import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from crawler.extract.clean import _drop, _p_text_len, _preclean
from crawler.extract.model import ExtractOverrides
from crawler.extract.page import _Page, _text_of
from crawler.extract.postprocess import _postprocess
from crawler.extract.text import _TAG_RE, _clean_ws, _containment, _norm, _plain

LOG = logging.getLogger(__name__)

# A text shorter than this is no article (also used to classify the page, see classify.py).
MIN_ARTICLE_BODY = 250


# --------------------------------------------------------------------------------------
# trafilatura runs
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
    "always_raw": False,  # ... run on every page, not only where it could win (the slower method before issue 14)
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


def _raw_run_may_win(main: str, untouched_p_chars: int) -> bool:
    """Whether the untouched-page run could come out 1/FALLBACK_RATIO times longer than `main`.

    Its text is mostly the page's <p> text, so when `main` already holds half of that, the second trafilatura
    run is skipped (on the dev pages it changed 1 result in 102, and this test still runs it there: 5 runs in
    102 pages instead of 102). A short `main` always gets the second opinion."""
    return len(main) < max(MIN_ARTICLE_BODY, FALLBACK_RATIO * untouched_p_chars)


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
    best, source = main, "trafilatura"
    if flags.get("always_raw", False) or _raw_run_may_win(main, _p_text_len(tree)):
        raw = _postprocess(_run_trafilatura(tree, url), titles, flags, urls)
        if len(main) < FALLBACK_RATIO * len(raw):
            best, source = raw, "trafilatura-raw"
    if len(best) < MIN_ARTICLE_BODY and flags.get("rescue", True):
        # nearly nothing found: let trafilatura try its slower external fallbacks too
        rescue = _postprocess(_run_trafilatura(tree, url, fast=False), titles, flags, urls)
        if len(rescue) > len(best):
            best, source = rescue, "trafilatura-fallback"
    return best, source


# --------------------------------------------------------------------------------------
# choosing between candidates, overrides
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
