"""The one generic spider: discovers articles from each registry source's feeds and sitemaps and extracts them.

    scrapy crawl news -a sources=electrek,insideevs -a registry=path/to/sources.toml -a max_age_days=2
    scrapy crawl news -a discover=feeds     # feeds only (sitemaps: sitemaps + robots.txt Sitemap: lines)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator

import scrapy
from scrapy.http import Response
from scrapy.utils.sitemap import sitemap_urls_from_robots
from twisted.python.failure import Failure

from crawler.discovery import BadDocument, Discovered, HostileXml, inflate, parse_feed, parse_sitemap
from crawler.extract import extract_article
from crawler.failures import failure_reason, retry_after_of
from crawler.items import ArticleItem
from crawler.pipelines import MAX_URL
from crawler.registry import Registry, SourceSpec
from crawler.runtime import get_retry_book, get_store, newsagg_settings, record_failure, record_skip
from newsagg.urls import canonical_url, is_http_url

HTML_TYPES = (b"text/html", b"application/xhtml+xml")
MAX_SITEMAP_DEPTH = 3
DISCOVER_MODES = ("all", "feeds", "sitemaps")


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, sources: str | None = None, registry: str | None = None,
                 max_age_days: str | float | None = None, discover: str = "all", **kwargs: Any):
        super().__init__(**kwargs)
        if discover not in DISCOVER_MODES:
            raise ValueError(f"discover must be one of {', '.join(DISCOVER_MODES)}, not {discover!r}")
        self.discover = discover  # schedule groups split feeds (polled often) from sitemaps (hourly)
        self._source_names = [s.strip() for s in sources.split(",") if s.strip()] if sources else None
        self._registry_path = registry
        self._max_age_arg = max_age_days
        self._queued: set[str] = set()  # article URLs requested in this run
        self._feed_states: dict[str, tuple[str | None, str | None]] = {}  # saved only if the crawl finishes

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> "NewsSpider":
        spider = super().from_crawler(crawler, *args, **kwargs)
        registry = Registry.load(spider._registry_path or newsagg_settings(crawler).crawl.sources_file)
        spider.sources = registry.select(spider._source_names)
        # Callbacks get a source by name: queued requests (the Redis frontier is JSON) carry no objects.
        spider.source_named = {source.name: source for source in spider.sources}
        max_age = float(spider._max_age_arg if spider._max_age_arg is not None
                        else newsagg_settings(crawler).crawl.max_age_days)
        spider.oldest = datetime.now(timezone.utc) - timedelta(days=max_age) if max_age > 0 else None
        spider.store = get_store(crawler)
        for source in spider.sources:
            spider.store.ensure_source(source.name, source.homepage, source.language, str(registry.path or ""))
        crawler.signals.connect(spider._save_feed_states, signal=scrapy.signals.spider_closed)
        crawler.signals.connect(spider._forget_recovered, signal=scrapy.signals.spider_closed)
        return spider

    # ---- discovery -------------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        feeds, sitemaps = self.discover in ("all", "feeds"), self.discover in ("all", "sitemaps")
        for source in self.sources:
            for url in source.feeds if feeds else ():
                yield self._document_request(url, source, self.parse_feed)
            for url in source.sitemaps if sitemaps else ():
                yield self._document_request(url, source, self.parse_sitemap)
            if source.robots_sitemaps and sitemaps:
                robots = canonical_url(source.homepage).split("/", 3)
                yield scrapy.Request("/".join(robots[:3]) + "/robots.txt", callback=self.parse_robots,
                                     errback=self.on_error, cb_kwargs={"source_name": source.name},
                                     dont_filter=True)
        for retry in get_retry_book(self.crawler).due([s.name for s in self.sources]):
            # Articles an earlier crawl failed to fetch for a passing reason, whether or not a feed still lists them.
            if retry.url not in self._queued:
                self._queued.add(retry.url)
                self.crawler.stats.inc_value("newsagg/discovery/retry_due")
                yield self._article_request(retry.url, self.source_named[retry.source])

    def _document_request(self, url: str, source: SourceSpec, callback, depth: int = 0) -> scrapy.Request:
        """A feed/sitemap request, conditional on the validators of the last completed crawl."""
        headers = {}
        state = self.store.feed_state(url)
        if state is not None:
            if state.etag:
                headers["If-None-Match"] = state.etag
            if state.last_modified:
                headers["If-Modified-Since"] = state.last_modified
        return scrapy.Request(url, callback=callback, errback=self.on_error, headers=headers,
                              cb_kwargs={"source_name": source.name, "depth": depth},
                              meta={"handle_httpstatus_list": [304], "newsagg_document": True})

    def _not_modified(self, response: Response) -> bool:
        if response.status == 304:
            self.crawler.stats.inc_value("newsagg/documents/not_modified")
            return True
        self._feed_states[response.request.url] = (
            (response.headers.get("ETag") or b"").decode("latin-1") or None,
            (response.headers.get("Last-Modified") or b"").decode("latin-1") or None,
        )
        return False

    def parse_robots(self, response: Response, source_name: str):
        source = self.source_named[source_name]
        known = set(source.sitemaps)
        for url in sitemap_urls_from_robots(response.text, base_url=response.url):
            if url not in known and source.allows(url):
                yield self._document_request(url, source, self.parse_sitemap)

    def parse_feed(self, response: Response, source_name: str, depth: int = 0):
        source = self.source_named[source_name]
        if self._not_modified(response):
            return
        self.crawler.stats.inc_value("newsagg/documents/feeds")
        try:
            entries = parse_feed(response.body)
        except (HostileXml, BadDocument) as exc:
            self._feed_states.pop(response.request.url, None)
            record_skip(self.crawler, "hostile_xml" if isinstance(exc, HostileXml) else "bad_feed", None,
                        f"{response.url}: {exc}", source=source.name)
            return
        yield from self._article_requests(entries, source)

    def parse_sitemap(self, response: Response, source_name: str, depth: int = 0):
        source = self.source_named[source_name]
        if self._not_modified(response):
            return
        self.crawler.stats.inc_value("newsagg/documents/sitemaps")
        try:
            content = parse_sitemap(inflate(response.body, self.settings.getint("DOWNLOAD_MAXSIZE")))
        except (HostileXml, BadDocument) as exc:
            self._feed_states.pop(response.request.url, None)
            record_skip(self.crawler, "hostile_xml" if isinstance(exc, HostileXml) else "bad_sitemap", None,
                        f"{response.url}: {exc}", source=source.name)
            return
        if not content.is_index:
            yield from self._article_requests(content.entries, source)
            return
        for child in content.entries:
            if depth >= MAX_SITEMAP_DEPTH:
                record_skip(self.crawler, "sitemap_too_deep", None, child.url, source=source.name)
            elif self._fresh(child) and is_http_url(child.url) and source.allows(child.url):
                yield self._document_request(child.url, source, self.parse_sitemap, depth + 1)

    def _fresh(self, entry: Discovered) -> bool:
        return self.oldest is None or entry.published is None or entry.published >= self.oldest

    def _article_requests(self, entries: list[Discovered], source: SourceSpec):
        """Requests for discovered articles that are fresh, on the source's domains and not already known."""
        candidates: dict[str, Discovered] = {}
        for entry in entries:
            if not is_http_url(entry.url):
                record_skip(self.crawler, "bad_url", None, entry.url[:200], source=source.name)
            elif not source.allows(entry.url):
                self.crawler.stats.inc_value("newsagg/discovery/offsite")
            elif not self._fresh(entry):
                self.crawler.stats.inc_value("newsagg/discovery/too_old")
            elif len(url := canonical_url(entry.url)) > MAX_URL:  # would not fit the store (nor its seen-set)
                record_skip(self.crawler, "url_too_long", None, url[:200])
            else:
                candidates.setdefault(url, entry)
        seen = self.store.seen(list(candidates))
        waiting = get_retry_book(self.crawler).pending([url for url in candidates if url not in seen])
        now = datetime.now(timezone.utc)
        for url, entry in candidates.items():
            if url in seen:
                self.crawler.stats.inc_value("newsagg/discovery/already_seen")
            elif url in waiting and waiting[url].next_try_at > now:
                self.crawler.stats.inc_value("newsagg/discovery/retry_later")  # failed before; not due yet
            elif url not in self._queued:
                self._queued.add(url)
                counter = "retry_due" if url in waiting else "new"
                self.crawler.stats.inc_value(f"newsagg/discovery/{counter}")
                yield self._article_request(url, source)

    def _article_request(self, url: str, source: SourceSpec) -> scrapy.Request:
        # dont_filter: our own seen-set dedupes; Scrapy's filter would silently swallow redirect loops.
        return scrapy.Request(url, callback=self.parse_article, errback=self.on_error,
                              cb_kwargs={"source_name": source.name}, dont_filter=True)

    # ---- articles --------------------------------------------------------------------------------------
    def parse_article(self, response: Response, source_name: str):
        source = self.source_named[source_name]
        url = response.request.url
        ctype = (response.headers.get("Content-Type") or b"").split(b";")[0].strip().lower()
        if ctype and ctype not in HTML_TYPES:
            record_skip(self.crawler, "not_html", url, ctype.decode("latin-1"), source=source.name)
            return
        if not response.body.strip():  # often a cache or CDN hiccup: tried again by a later crawl
            record_failure(self.crawler, "empty_body", _discovered_url(response.request), source=source.name)
            return
        html = decode_html(response)
        try:
            extracted = extract_article(html, response.url, default_timezone=source.timezone,
                                        overrides=source.extract)
        except Exception as exc:  # noqa: BLE001 — one odd page must never end the crawl
            self.logger.exception("extraction failed for %s", url)
            record_skip(self.crawler, "extract_error", url, repr(exc)[:200], source=source.name)
            return
        self.crawler.stats.inc_value("newsagg/pages/articles")
        yield ArticleItem(source=source.name, fetched_url=url, response_url=response.url,
                          extracted=extracted, raw_html=html)

    def on_error(self, failure: Failure):
        request = failure.request
        reason = failure_reason(failure)
        if request.meta.get("newsagg_document") or request.url.endswith("/robots.txt"):
            record_skip(self.crawler, reason, None, request.url,
                        source=request.cb_kwargs.get("source_name") or None)  # feeds and sitemaps are fetched every crawl
            return
        record_failure(self.crawler, reason, _discovered_url(request), detail=request.url,
                       source=request.cb_kwargs.get("source_name", ""),
                       retry_after=retry_after_of(failure))

    def _forget_recovered(self, spider, reason: str) -> None:
        """Retries that reached the seen-set in this crawl (stored at last, or final) are booked no more."""
        get_retry_book(self.crawler).forget_seen()

    def _save_feed_states(self, spider, reason: str) -> None:
        # Only a crawl that finished may skip unchanged feeds next time: after a crash or a kill, the next run
        # must see the feeds again to pick up the articles this one never reached.
        if reason != "finished":
            return
        for url, (etag, last_modified) in self._feed_states.items():
            if etag or last_modified:
                self.store.save_feed_state(url, etag, last_modified)


def _discovered_url(request: scrapy.Request) -> str:
    """The article URL as discovery saw it (before redirects): the one the seen-set and the retries know."""
    return (request.meta.get("redirect_urls") or [request.url])[0]


def decode_html(response: Response) -> str:
    """The page's text, repairing the common 'UTF-8 bytes served as Latin-1' misconfiguration."""
    declared = (response.encoding or "").lower().replace("_", "-")
    if declared in ("iso-8859-1", "latin-1", "cp1252", "windows-1252", "ascii", "us-ascii"):
        try:
            text = response.body.decode("utf-8")
            if any(ord(ch) > 127 for ch in text):  # valid multi-byte UTF-8 almost never happens in real Latin-1
                return text
        except UnicodeDecodeError:
            pass
    return response.text
