"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1) of stored articles, beside the Atom feed (atom.py).

Scraped text goes out as text only (`content_text` is the summary, as in Atom: never the body), never as
`content_html`, so a reader has nothing to render; characters JSON or UTF-8 cannot carry (lone surrogates) and
control characters are dropped as in the Atom feed, and `<`, `>`, `&` are written as \\u escapes so the document is also safe inside a <script>
element. Links are only http(s).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone

from newsagg.models import Article
from newsagg.urls import is_http_url
from recommender.api.atom import xml_text

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
JSON_FEED_MEDIA_TYPE = "application/feed+json"
_HTML_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _stamp(ts: datetime | None) -> str | None:
    return ts.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if ts else None


def _http(url: str | None) -> str | None:
    return url.strip() if url and is_http_url(url) else None


def json_feed(articles: Sequence[Article], *, title: str, feed_url: str, home_page_url: str | None,
              item_id_prefix: str) -> bytes:
    """The feed document; an item's permanent id is `item_id_prefix` + the article id (its URL in this API)."""
    feed = {
        "version": JSON_FEED_VERSION,
        "title": xml_text(title),
        "home_page_url": _http(home_page_url),
        "feed_url": _http(feed_url),
        "description": "Tech & automotive news collected by newsagg",
        "items": [_item(a, f"{item_id_prefix}{a.id}") for a in articles],
    }
    text = json.dumps(_without_nulls(feed), ensure_ascii=False, separators=(",", ":"))
    return text.translate(_HTML_SAFE).encode("utf-8")


def _item(article: Article, item_id: str) -> dict:
    summary = xml_text(article.summary)
    return {
        "id": item_id,
        "url": _http(article.url),
        "title": xml_text(article.title),
        # required: content_html or content_text. The summary, as in the Atom feed: the body stays with its
        # publisher (the API never serves it), and scraped text is never sent as HTML.
        "content_text": summary or xml_text(article.title),
        "summary": summary or None,
        "image": _http(article.lead_image),
        "date_published": _stamp(article.published_at),
        "date_modified": _stamp(article.updated_at),
        "authors": [{"name": xml_text(n)} for n in article.authors or []] or None,
        "tags": [xml_text(t) for t in article.tags or []] or None,
        "language": article.language or None,
        "_newsagg": {"source": xml_text(article.source_name), "entities": list(article.entities or [])},
    }


def _without_nulls(value):
    """JSON Feed leaves optional keys out rather than null."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
