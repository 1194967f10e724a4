"""Run one crawl in this process (Scrapy's reactor cannot restart: one crawl per process) and summarise it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.extensions import summarise
from crawler.runtime import skips_from_stats


@dataclass
class CrawlResult:
    reason: str
    counts: dict[str, int]
    skips: dict[str, int]
    run_id: int | None = None
    stats: dict = field(default_factory=dict, repr=False)


def scrapy_settings(overrides: dict | None = None) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def run_crawl(
    *,
    sources: list[str] | None = None,
    registry: str | None = None,
    max_age_days: float | None = None,
    group: str = "",
    discover: str = "all",
    overrides: dict | None = None,
    on_tick: Callable[[dict], None] | None = None,
) -> CrawlResult:
    """Crawl the selected sources of a registry into the store; blocks until the crawl ends."""
    settings = scrapy_settings({"NEWSAGG_RUN_GROUP": group, **(overrides or {})})
    process = CrawlerProcess(settings, install_root_handler=on_tick is None)
    if on_tick is not None:
        logging.getLogger("scrapy").setLevel(logging.WARNING)
    kwargs = {}
    if sources:
        kwargs["sources"] = ",".join(sources)
    if registry:
        kwargs["registry"] = registry
    if max_age_days is not None:
        kwargs["max_age_days"] = max_age_days
    if discover != "all":
        kwargs["discover"] = discover
    crawler = process.create_crawler("news")
    process.crawl(crawler, **kwargs)
    if on_tick is not None:
        from twisted.internet import task

        ticker = task.LoopingCall(lambda: on_tick(crawler.stats.get_stats()))
        ticker.start(0.5, now=False)
    process.start()
    # A spider that fails to construct (bad arguments, unreadable registry) leaves the crawler without stats.
    try:
        stats = crawler.stats.get_stats()
    except (AttributeError, RuntimeError):
        stats = {}
    return CrawlResult(
        reason=str(stats.get("finish_reason", "failed to start")),
        counts=summarise(stats),
        skips=skips_from_stats(stats),
        run_id=stats.get("newsagg/run_id"),
        stats=stats,
    )
