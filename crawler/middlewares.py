"""Downloader middlewares for politeness and safety that Scrapy does not ship.

- PolitenessMiddleware: one download slot per site (host:port) and robots.txt `Crawl-delay` honoured
  (Scrapy parses it but never applies it).
- BackoffRetryMiddleware: Scrapy's retry, plus exponential backoff and `Retry-After` on 429/503.
- PrivateAddressMiddleware: with crawler/resolver.py, refuses requests (and redirects) to loopback/private
  addresses — SSRF from URLs found in untrusted feeds — unless crawl.allow_private_hosts is set (demo, tests).
"""

from __future__ import annotations

import logging
import random

from scrapy import signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import reactor
from twisted.internet.error import DNSLookupError
from twisted.internet.task import deferLater

from crawler.failures import retry_after_seconds
from crawler.resolver import refused_hosts
from crawler.runtime import newsagg_settings
from newsagg.urls import address_refusal

log = logging.getLogger(__name__)


class PolitenessMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        crawl = newsagg_settings(crawler).crawl
        self.obey = crawl.obey_crawl_delay
        self.max_delay = crawl.max_crawl_delay
        self.user_agent = crawler.settings.get("USER_AGENT")
        self.delays: dict[str, float] = {}
        crawler.signals.connect(self._robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _robots_parsed(self, robotparser, request) -> None:
        if not self.obey:
            return
        delay = robotparser.crawl_delay(self.user_agent) if hasattr(robotparser, "crawl_delay") else None
        if delay:
            netloc = urlparse_cached(request).netloc
            self.delays[netloc] = min(float(delay), self.max_delay)
            self.crawler.stats.set_value(f"newsagg/crawl_delay/{netloc}", self.delays[netloc])

    def process_request(self, request):
        netloc = urlparse_cached(request).netloc
        request.meta.setdefault("download_slot", netloc)  # per site, ports included
        delay = self.delays.get(netloc)
        if delay:
            downloader = self.crawler.engine.downloader
            # Crawl-delay is a floor: no random jitter (Scrapy's ±50% would go below it).
            downloader.per_slot_settings.setdefault(netloc, {}).update(delay=delay, jitter=0.0)
            slot = downloader.slots.get(request.meta["download_slot"])
            if slot is not None and (slot.delay < delay or slot.jitter):
                slot.delay, slot.jitter = max(slot.delay, delay), 0.0
            # AutoThrottle may lower delays towards DOWNLOAD_DELAY; a site's Crawl-delay is a floor.
            request.meta["autothrottle_dont_adjust_delay"] = True
        return None


class RetryLater(IgnoreRequest):
    """The server asked for a pause longer than a crawl waits (Retry-After > crawl.max_retry_after)."""

    def __init__(self, retry_after: float):
        super().__init__(f"Retry-After {retry_after:.0f}s exceeds crawl.max_retry_after: a later crawl retries")
        self.retry_after = retry_after


class BackoffRetryMiddleware(RetryMiddleware):
    """Retry like Scrapy, but wait first: Retry-After when the server says, else exponential backoff."""

    def __init__(self, crawler):
        super().__init__(crawler.settings)
        self.crawler = crawler  # what Scrapy's from_crawler sets: _retry counts stats through it
        crawl = newsagg_settings(crawler).crawl
        self.max_retry_after = crawl.max_retry_after
        self.backoff_base = crawl.retry_backoff

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_response(self, request, response):
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        attempt = request.meta.get("retry_times", 0)
        if attempt >= request.meta.get("max_retry_times", self.max_retry_times):
            return response  # give up now; the spider's errback counts it
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is None:
            wait = self.backoff_base * (2**attempt) * (1 + random.random() * 0.25)  # noqa: S311
        if wait > self.max_retry_after:
            raise RetryLater(wait)
        if wait > 0:
            await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))
        return self._retry(request, f"{response.status}") or response


class PrivateAddressMiddleware:
    """The downloader's side of the SSRF guard (the connection itself is guarded by crawler/resolver.py).

    Refuses IP-literal URLs that are not public and hosts the resolver already refused (their retries and
    redirects fail at once, as `blocked_address`), turns the resolver's "no address left" into that refusal, and
    checks the peer address of every response (`response.ip_address`) as a last line.
    """

    def __init__(self, allow: bool):
        self.allow = allow

    @classmethod
    def from_crawler(cls, crawler):
        return cls(newsagg_settings(crawler).crawl.allow_private_hosts)

    def process_request(self, request):
        if self.allow:
            return None
        host = urlparse_cached(request).hostname or ""
        try:
            reason = address_refusal(host)
        except ValueError:  # a name: no lookup here (that is the resolver's, off the reactor thread)
            reason = refused_hosts.get(host)
        if reason:
            raise IgnoreRequest(f"refused: {host} is a private address ({reason})")
        return None

    def process_exception(self, request, exception):
        host = urlparse_cached(request).hostname or ""
        no_address = isinstance(exception, (DNSLookupError, CannotResolveHostError))  # Scrapy wraps Twisted's
        if not self.allow and no_address and host in refused_hosts:
            raise IgnoreRequest(f"refused: {host} is a private address ({refused_hosts[host]})")
        return None

    def process_response(self, request, response):
        ip = getattr(response, "ip_address", None)
        if not self.allow and ip is not None:
            reason = address_refusal(ip)
            if reason:
                raise IgnoreRequest(f"refused: {request.url} was served from a private address {ip} ({reason})")
        return response
