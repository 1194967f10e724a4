"""One pace per site for all workers: a Redis "next allowed send time" per site, kept by Lua on the server's clock.

SharedPolitenessMiddleware learns each site's robots.txt Crawl-delay and shares it; PacedDownloadHandler waits for
the site's turn without blocking the reactor, just before the request is sent.
"""

from __future__ import annotations

import time

from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy_redis.connection import get_redis_from_settings
from twisted.internet import reactor, task

from crawler.middlewares import PolitenessMiddleware
from crawler.runtime import newsagg_settings
from crawler.scaleout.scripts import CLAIM, PUBLISH, ms


class SharedPace:
    """One pace per site for all workers: Redis keeps each site's next allowed send time and its delay.

    A site's delay is max(DOWNLOAD_DELAY, its robots.txt Crawl-delay). Until some worker has read the site's
    robots.txt, the first claimant holds the site (at most scaleout.robots_hold) so the others do not rush it.
    """

    def __init__(self, crawler):
        cfg = newsagg_settings(crawler)
        self.stats = crawler.stats
        self.redis = get_redis_from_settings(crawler.settings)
        self.prefix = cfg.schedule.redis_prefix + ":polite:"
        self.default_delay = cfg.crawl.download_delay  # DOWNLOAD_DELAY is 0 in scale-out: this pace replaces it
        self.hold_ms = ms(cfg.scaleout.robots_hold)
        self.stale_turn, self.max_stale_turns = cfg.scaleout.stale_turn, cfg.scaleout.max_stale_turns
        self.robots_first = crawler.settings.getbool("ROBOTSTXT_OBEY")
        self.known: dict[str, float] = {}  # site → delay, once this worker has read (or failed to read) robots.txt
        self._claim = self.redis.register_script(CLAIM)
        self._publish = self.redis.register_script(PUBLISH)

    @classmethod
    def of(cls, crawler) -> "SharedPace":
        """The crawler's one pace (shared by the middleware that learns delays and the handler that waits)."""
        pace = getattr(crawler, "_newsagg_pace", None)
        if pace is None:
            pace = crawler._newsagg_pace = cls(crawler)
        return pace

    def _keys(self, netloc: str) -> list[str]:
        return [f"{self.prefix}{netloc}:next", f"{self.prefix}{netloc}:delay"]

    def learned(self, netloc: str, delay: float) -> None:
        """robots.txt read (or unreadable): share the site's delay and end the hold."""
        self.known[netloc] = max(self.default_delay, delay)
        self._publish(keys=self._keys(netloc), args=[ms(self.known[netloc])])

    async def wait(self, request) -> None:
        """Return once this request may be sent; waits without blocking the reactor."""
        netloc = urlparse_cached(request).netloc
        stale = 0
        while True:
            known = self.known.get(netloc, None if self.robots_first else self.default_delay)
            wait_ms, delay_ms = self._claim(keys=self._keys(netloc),
                                            args=[self.hold_ms, -1 if known is None else ms(known)])
            if wait_ms > 0:
                self.stats.inc_value("newsagg/scaleout/pace_waits")
                await _sleep(wait_ms / 1000)
                continue
            if delay_ms <= 0 or stale >= self.max_stale_turns:
                return
            # Our turn starts now, but the send happens only when the reactor gets to it; if other work held the
            # reactor for long (extraction, start-up), another worker's next turn could come right after our
            # late send. Let queued work run first; a turn that went stale meanwhile is given up for a fresh one.
            granted = time.monotonic()
            await _sleep(0)
            if time.monotonic() - granted <= self.stale_turn * delay_ms / 1000:
                return
            stale += 1
            self.stats.inc_value("newsagg/scaleout/stale_turns")


async def _sleep(seconds: float) -> None:
    await maybe_deferred_to_future(task.deferLater(reactor, seconds, lambda: None))


class SharedPolitenessMiddleware(PolitenessMiddleware):
    """PolitenessMiddleware for many workers: one download slot per site, and each site's robots.txt delay
    shared through Redis. The wait itself is PacedDownloadHandler's, right before the send."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.pace = SharedPace.of(crawler)

    def _robots_parsed(self, robotparser, request) -> None:
        super()._robots_parsed(robotparser, request)
        netloc = urlparse_cached(request).netloc
        self.pace.learned(netloc, self.delays.get(netloc, 0.0))

    def process_request(self, request):
        request.meta.setdefault("download_slot", urlparse_cached(request).netloc)  # per site, ports included
        request.meta["autothrottle_dont_adjust_delay"] = True  # the shared pace is the only throttle
        return None

    def process_exception(self, request, exception):
        netloc = urlparse_cached(request).netloc
        if request.meta.get("dont_obey_robotstxt") and netloc not in self.pace.known:
            self.pace.learned(netloc, 0.0)  # robots.txt unreachable: Scrapy crawls without rules, at the default pace
        return None


class PacedDownloadHandler(BaseDownloadHandler):
    """Scrapy's HTTP(S) handler behind the shared pace.

    The wait is the last step before a request leaves, not a downloader middleware's: between the middlewares and
    the network sits Scrapy's per-slot queue, and a turn claimed before that queue can be spent much later (three
    workers then hit a 0.2 s Crawl-delay site 0.03 s apart). Waiting here also keeps at most
    CONCURRENT_REQUESTS_PER_DOMAIN requests per site and worker waiting, as Scrapy's slot counts them as transfers.
    """

    lazy = False

    def __init__(self, crawler):
        super().__init__(crawler)
        # Scrapy's own HTTP(S) handler (the same class serves both schemes).
        inner = crawler.settings.getdict("DOWNLOAD_HANDLERS_BASE")["https"]
        self.inner = build_from_crawler(load_object(inner), crawler)
        self.pace = SharedPace.of(crawler)

    async def download_request(self, request):
        await self.pace.wait(request)
        return await self.inner.download_request(request)

    async def close(self) -> None:
        await self.inner.close()
