"""CrawlRunRecorder: every crawl leaves a crawl-run record in the store (start, end, counts, skips by reason)."""

from __future__ import annotations

import os
import socket

from scrapy import signals

from crawler.runtime import get_store, skips_from_stats

COUNTERS = {
    "pages": "newsagg/pages/articles",
    "new": "newsagg/articles/new",
    "duplicate": "newsagg/articles/duplicate",
    "near_duplicate": "newsagg/articles/near_duplicate",
    "feeds": "newsagg/documents/feeds",
    "sitemaps": "newsagg/documents/sitemaps",
    "not_modified": "newsagg/documents/not_modified",
    "discovered": "newsagg/discovery/new",
    "already_seen": "newsagg/discovery/already_seen",
    "retried": "newsagg/discovery/retry_due",
    "retry_booked": "newsagg/retry/booked",
    "lead_images_dropped": "newsagg/fields_dropped/lead_image_too_long",
    "requests": "downloader/request_count",
}


def summarise(stats: dict) -> dict[str, int]:
    return {name: int(stats.get(key, 0)) for name, key in COUNTERS.items()}


class CrawlRunRecorder:
    def __init__(self, crawler):
        self.crawler = crawler
        self.run_id: int | None = None
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def opened(self, spider) -> None:
        names = [s.name for s in getattr(spider, "sources", [])]
        # host:pid lets a scheduler find the run of the process it saw die, and mark it killed/failed.
        worker = f"{socket.gethostname()}:{os.getpid()}"
        self.run_id = get_store(self.crawler).start_run(
            self.crawler.settings.get("NEWSAGG_RUN_GROUP", ""), names, worker=worker
        )
        self.crawler.stats.set_value("newsagg/run_id", self.run_id)

    def closed(self, spider, reason: str) -> None:
        if self.run_id is None:
            return
        stats = self.crawler.stats.get_stats()
        status = "finished" if reason == "finished" else f"failed:{reason}"[:20]
        get_store(self.crawler).finish_run(self.run_id, status, summarise(stats), skips_from_stats(stats))
