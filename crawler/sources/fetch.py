"""Fetching for `sources add` and `sources check` through the crawler's own Scrapy downloader.

The probes run as coroutines inside a tiny spider and call `engine.download_async`, so every request passes the
same downloader middlewares as a crawl: robots.txt, the identifying User-Agent, per-site delays and Crawl-delay,
the private-address (SSRF) guard, retries, redirects (REDIRECT_MAX_TIMES ends loops) and DOWNLOAD_MAXSIZE.
One process runs one batch of probes (Scrapy's reactor cannot restart).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.failures import failure_reason

PERMANENT = {301, 308}
Job = Callable[["Fetcher"], Awaitable[Any]]


@dataclass(frozen=True)
class Fetched:
    """One fetch: the final response (after redirects) or the reason there is none."""

    url: str
    final_url: str
    status: int | None = None
    body: bytes = b""
    content_type: str = ""
    redirects: tuple[tuple[int, str], ...] = ()  # (status, target) per hop
    error: str | None = None  # a crawl skip reason: redirect_loop, blocked_address, robots_forbidden, too_large …
    response: Response | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200

    @property
    def problem(self) -> str | None:
        """Why this fetch gave nothing usable (None when it did)."""
        if self.error:
            return self.error
        return None if self.status == 200 else f"http_{self.status}"

    @property
    def moved_to(self) -> str | None:
        """The new address when every redirect hop was permanent (301/308)."""
        if self.redirects and all(status in PERMANENT for status, _ in self.redirects):
            return self.final_url
        return None


class Fetcher:
    """`await fetcher.get(url)` through the running crawler's downloader; results cached per URL."""

    def __init__(self, crawler):
        self.crawler = crawler
        self._cache: dict[str, Fetched] = {}

    async def get(self, url: str) -> Fetched:
        if url not in self._cache:
            self._cache[url] = await self._download(url)
        return self._cache[url]

    async def _download(self, url: str) -> Fetched:
        try:
            request = scrapy.Request(url, dont_filter=True)
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:  # noqa: BLE001 — every refusal or network error becomes a reason
            return Fetched(url, url, error=failure_reason(Failure(exc)))
        sources = response.meta.get("redirect_urls", [])
        statuses = response.meta.get("redirect_reasons", [])
        targets = [*sources[1:], response.url]
        ctype = (response.headers.get("Content-Type") or b"").decode("latin-1").split(";")[0].strip().lower()
        return Fetched(url, response.url, response.status, response.body, ctype,
                       tuple(zip((int(s) if str(s).isdigit() else 0 for s in statuses), targets)),
                       response=response)


class _ProbeSpider(scrapy.Spider):
    """Runs the jobs concurrently from `start()`; yields no request of its own."""

    name = "newsagg-probe"

    def __init__(self, jobs: list[Job], **kwargs: Any):
        super().__init__(**kwargs)
        self.jobs = jobs
        self.results: list[Any] = []

    async def start(self):
        fetcher = Fetcher(self.crawler)
        self.results = await asyncio.gather(*(job(fetcher) for job in self.jobs), return_exceptions=True)
        return
        yield  # noqa: B901 — an async generator that yields nothing


def run_probes(jobs: list[Job]) -> list[Any]:
    """Run the jobs (coroutines taking a Fetcher) in one Scrapy process; their results (or exceptions) in order."""
    from crawler.run import scrapy_settings

    settings = scrapy_settings({
        "ITEM_PIPELINES": {}, "EXTENSIONS": {},  # nothing is stored and no crawl run is recorded
        "SCHEDULER": "scrapy.core.scheduler.Scheduler", "DUPEFILTER_CLASS": "scrapy.dupefilters.RFPDupeFilter",
        "LOG_LEVEL": "WARNING", "LOG_INSTALL_ROOT_HANDLER": False,
    })
    process = CrawlerProcess(settings)
    logging.getLogger("scrapy").setLevel(logging.WARNING)
    crawler = process.create_crawler(_ProbeSpider)
    process.crawl(crawler, jobs=jobs)
    process.start()
    spider = crawler.spider
    return list(spider.results) if spider is not None else []
