"""Article discovery: URLs and their dates from RSS/Atom feeds (feedparser), JSON Feeds and sitemaps (Scrapy's Sitemap).

Feeds and sitemaps are untrusted XML: documents declaring entities are refused before any parser sees them
(defusedxml's check), sitemaps are parsed by lxml without entity resolution, and gzip is inflated with a size cap.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import datetime, timezone

import feedparser
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap
from xml.etree.ElementTree import ParseError

from crawler.extract.dates import parse_date  # one date parser for pages, feeds and sitemaps (UTC, plausible only)


class HostileXml(ValueError):
    """The document declares entities or external references (entity expansion / XXE attempts)."""


class BadDocument(ValueError):
    """Not a feed or sitemap we can read."""


@dataclass(frozen=True)
class Discovered:
    url: str
    published: datetime | None  # UTC; from the feed entry or the sitemap's lastmod / news:publication_date


@dataclass(frozen=True)
class SitemapContent:
    is_index: bool
    entries: list[Discovered]  # child sitemaps for an index, article URLs otherwise


def refuse_entities(body: bytes) -> None:
    """Raise HostileXml if the XML declares entities or external DTDs; tolerate merely malformed XML."""
    try:
        defused_fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise HostileXml(type(exc).__name__) from exc
    except (ParseError, ValueError):
        pass  # malformed but not hostile: feedparser is lenient, lxml recovers


def inflate(body: bytes, max_size: int) -> bytes:
    """Un-gzip a `.xml.gz` body, refusing to inflate past max_size (gzip bombs)."""
    if body[:2] != b"\x1f\x8b":
        return body
    try:
        return gunzip(body, max_size=max_size)
    except Exception as exc:  # noqa: BLE001 — scrapy raises a plain ValueError-like _DecompressionMaxSizeExceeded
        raise BadDocument(f"gzip: {exc}") from exc


def parse_json_feed(body: bytes) -> list[Discovered]:
    """JSON Feed 1.x (jsonfeed.org): feedparser reads only XML feeds."""
    try:
        feed = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BadDocument(f"JSON feed: {exc}") from exc
    items = feed.get("items") if isinstance(feed, dict) else None
    if not isinstance(items, list) or not str(feed.get("version", "")).startswith("https://jsonfeed.org/"):
        raise BadDocument("JSON feed: no version or items")
    found = []
    for item in items:
        link = item.get("url") if isinstance(item, dict) else None
        if isinstance(link, str) and link.strip():
            when = item.get("date_published") or item.get("date_modified")
            found.append(Discovered(link.strip(), parse_date(when) if isinstance(when, str) else None))
    return found


def parse_feed(body: bytes) -> list[Discovered]:
    if body.lstrip()[:1] == b"{":
        return parse_json_feed(body)
    refuse_entities(body)
    feed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    if not feed.entries and (feed.bozo or not feed.get("version")):
        raise BadDocument(f"feed: {feed.get('bozo_exception') or 'not RSS or Atom'}")
    found = []
    for entry in feed.entries:
        link = entry.get("link") or next(
            (l.get("href") for l in entry.get("links", []) if l.get("rel") == "alternate"), None
        )
        if not link:
            continue
        parsed = entry.get("published_parsed") or entry.get("updated_parsed")
        when = datetime.fromtimestamp(calendar.timegm(parsed), timezone.utc) if parsed else None
        found.append(Discovered(link.strip(), when))
    return found


def parse_sitemap(body: bytes) -> SitemapContent:
    refuse_entities(body)
    try:
        sitemap = Sitemap(body)
    except Exception as exc:  # noqa: BLE001 — lxml raises several types on garbage
        raise BadDocument(f"sitemap: {exc}") from exc
    if sitemap.type not in ("urlset", "sitemapindex"):
        raise BadDocument(f"sitemap: unexpected root <{sitemap.type}>")
    entries = []
    for entry in sitemap:
        loc = entry.get("loc")
        if not loc:
            continue
        # Google News sitemaps carry their date in a nested element Scrapy's parser flattens away; they only
        # list the last two days anyway, so a missing date there costs nothing.
        entries.append(Discovered(loc.strip(), parse_date(entry.get("lastmod"))))
    return SitemapContent(sitemap.type == "sitemapindex", entries)
