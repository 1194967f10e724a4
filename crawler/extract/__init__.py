"""Article extraction: HTML -> ExtractedArticle (metadata + main text).

Body (``body._choose_body``):

1. parse once with lxml (trafilatura's loader: tolerant of broken markup; huge
   pages are cut to their beginning, see page.MAX_HTML_CHARS / MAX_ELEMENTS);
2. normalise a copy of the DOM (``clean._preclean``): drop hidden elements, ``<header>``
   blocks and page furniture found by class/id words (share, newsletter, related,
   comments, hover cards ...), merge an article body that the CMS split into
   several sibling containers, wrap ``<br>``-separated loose text into ``<p>``,
   and mark link-only blocks so the text stage can recognise cross-link lists;
3. run trafilatura on it (fast, recall focus, comments off); if that comes out
   much shorter than trafilatura on the untouched page, the clean-up misled its
   container choice and the untouched-page text is used ("trafilatura-raw");
4. clean the text line by line (``postprocess._postprocess``): link-list runs, newsletter /
   follow / "read more" / credit / disclosure lines, the headline and the
   byline/date lines above the text, trailing "related"/comment sections;
5. prefer the JSON-LD ``articleBody`` only when the HTML text is missing, or is a
   teaser that the (much longer) JSON-LD body contains.

Metadata come from JSON-LD first (NewsArticle & co, also in @graph/lists), then
OpenGraph/article:* meta, other meta tags, ``<time>``/date elements and byline text;
pages without any of these fall back to the <title>/headline and labelled
"Author: ... 2024-04-03 20:10" meta lines.
Nothing here raises on bad input: the worst case is an article with an empty body.
Scores and the method's evaluation: ``benchmarks/extraction.py``.

Modules, in pipeline order (each imports only the ones above it):
  text, model, page        helpers, public data types, the parsed page (_Page, JSON-LD)
  clean, postprocess, body the main text: DOM clean-up, line clean-up, candidate choice
  dates, authors, title,   one metadata concern each
  metadata, classify
This module only wires them together: ``extract_article`` and ``extract_body``.
"""

from __future__ import annotations

import logging
from typing import Any

from crawler.extract.authors import _authors, clean_authors

# DEFAULT_FLAGS is re-exported as the same dict object: the benchmark's --disable
# switches stages off by updating it in place.
from crawler.extract.body import DEFAULT_FLAGS, _choose_body
from crawler.extract.classify import _is_article, _paywalled
from crawler.extract.dates import _dates, parse_date
from crawler.extract.metadata import _amp_url, _canonical, _language, _lead_image, _summary, _tags
from crawler.extract.model import ExtractedArticle, ExtractOverrides
from crawler.extract.page import _Page, _parse
from crawler.extract.title import _site_name, _title

LOG = logging.getLogger(__name__)

__all__ = [
    "ExtractOverrides",
    "ExtractedArticle",
    "clean_authors",
    "extract_article",
    "extract_body",
    "parse_date",
]


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


def _fill(art: ExtractedArticle, steps: list[tuple[str, Any]]) -> None:
    """Set each field from its extractor; one failing extractor must not cost the others."""
    for name, fn in steps:
        try:
            setattr(art, name, fn())
        except Exception:  # noqa: BLE001
            LOG.debug("field %s failed", name, exc_info=True)


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
    _fill(art, steps)
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
    _fill(art, more)
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
