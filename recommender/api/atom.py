"""Atom 1.0 (RFC 4287) feed of stored articles, written with an XML library, never by string formatting.

ElementTree escapes text and attribute values; what it cannot do is drop characters XML 1.0 forbids outright
(control characters scraped pages do contain), which would make the whole feed unparseable, so those go first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from xml.etree.ElementTree import Element, SubElement, tostring

from newsagg.models import Article
from newsagg.urls import is_http_url

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str | None) -> str:
    return _NOT_XML.sub("", value or "")


def _stamp(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _add(parent: Element, tag: str, text: str | None = None, **attrs: str) -> Element:
    el = SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        el.text = xml_text(text)
    return el


def _updated(article: Article) -> datetime:
    return article.updated_at or article.published_at or article.fetched_at


def atom_feed(articles: Sequence[Article], *, title: str, self_url: str, entry_id_prefix: str,
              feed_id: str | None = None) -> bytes:
    """The feed document; an entry's permanent id is `entry_id_prefix` + the article id (its URL in this API)."""
    feed = Element("feed", {"xmlns": ATOM_NS})
    _add(feed, "id", feed_id or self_url)
    _add(feed, "title", title)
    newest = max((_updated(a) for a in articles), default=datetime.now(timezone.utc))
    _add(feed, "updated", _stamp(newest))
    _add(feed, "link", rel="self", type=ATOM_MEDIA_TYPE, href=self_url)
    _add(feed, "generator", "newsagg")
    for article in articles:
        _entry(feed, article, f"{entry_id_prefix}{article.id}")
    return tostring(feed, encoding="utf-8", xml_declaration=True)


def _entry(feed: Element, article: Article, entry_id: str) -> None:
    entry = _add(feed, "entry")
    _add(entry, "id", entry_id)
    _add(entry, "title", article.title, type="text")
    if is_http_url(article.url):  # a link is followed by readers: never a javascript: or data: URL
        _add(entry, "link", rel="alternate", type="text/html", href=article.url.strip())
    _add(entry, "updated", _stamp(_updated(article)))
    if article.published_at is not None:
        _add(entry, "published", _stamp(article.published_at))
    # RFC 4287 wants an author per entry (or per feed); the publisher stands in when there is no byline
    for name in article.authors or [article.source_name or "unknown"]:
        _add(_add(entry, "author"), "name", name)
    if article.summary:
        _add(entry, "summary", article.summary, type="text")
    for tag in article.tags or []:
        _add(entry, "category", term=tag)
    source = _add(entry, "source")
    _add(source, "title", article.source_name)
    if article.source is not None and is_http_url(article.source.homepage):
        _add(source, "link", rel="alternate", href=article.source.homepage.strip())
