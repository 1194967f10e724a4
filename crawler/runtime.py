"""What every crawler component shares through the Crawler object: the store, and how a skip is recorded."""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler

from newsagg.store import Store

log = logging.getLogger(__name__)
SKIP_PREFIX = "newsagg/skipped/"
SOURCE_SKIP_PREFIX = "newsagg/source_skipped/"  # + "<source>/<reason>": per-source skips for crawler/health.py
# Skips worth retrying in a later crawl: they are counted but the URL is not marked as seen.
TRANSIENT = {"timeout", "connection", "dns", "http_429", "http_5xx", "retry_exhausted"}


def get_store(crawler: Crawler) -> Store:
    """One Store per crawler, opened from the NEWSAGG_DATABASE_URL setting."""
    store = getattr(crawler, "_newsagg_store", None)
    if store is None:
        store = Store(crawler.settings.get("NEWSAGG_DATABASE_URL"))
        crawler._newsagg_store = store
    return store


def record_skip(crawler: Crawler, reason: str, url: str | None = None, detail: str = "",
                source: str | None = None) -> None:
    """Count a skipped page by reason (Scrapy stats; per source too when known), log it, and remember permanent
    skips in the seen-set."""
    crawler.stats.inc_value(SKIP_PREFIX + reason)
    if source:
        crawler.stats.inc_value(f"{SOURCE_SKIP_PREFIX}{source}/{reason}")
    log.info("skipped (%s) %s %s", reason, url or "", detail)
    if url and reason not in TRANSIENT:
        get_store(crawler).mark_seen(url, f"skipped/{reason}")


def skips_from_stats(stats: dict) -> dict[str, int]:
    return {k[len(SKIP_PREFIX):]: v for k, v in stats.items() if k.startswith(SKIP_PREFIX)}
