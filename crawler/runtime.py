"""What every crawler component shares through the Crawler object: the store, and how a skip is recorded."""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler

from crawler.retries import RetryBook, RetryPolicy
from newsagg.config import Settings, get_settings
from newsagg.store import Store

log = logging.getLogger(__name__)
SKIP_PREFIX = "newsagg/skipped/"
SOURCE_SKIP_PREFIX = "newsagg/source_skipped/"  # + "<source>/<reason>": per-source skips for crawler/health.py
RETRY_BOOKED = "newsagg/retry/booked"
# Download failures that say something about the page itself: marked seen at once, never fetched again.
FINAL_FAILURES = {"robots_forbidden", "too_large", "decompression_bomb", "redirect_loop", "blocked_address",
                  "ignored"}
# Gone, unless the site is having a bad day: marked seen only after crawl.permanent_after_tries tries.
PERMANENT_AFTER_TRIES = {"http_404", "http_410"}
# Skips counted but never marked seen (whatever the caller): they are booked or simply retried next crawl.
TRANSIENT = {"timeout", "connection", "dns", "tls", "http_429", "http_5xx", "retry_exhausted", "retry_after",
             "empty_body"}


def newsagg_settings(crawler: Crawler) -> Settings:
    """The newsagg settings this crawl runs with: the NEWSAGG_SETTINGS Scrapy setting (crawler/settings.py), or the
    process-wide settings when a crawler was built without the project's Scrapy settings."""
    return crawler.settings.get("NEWSAGG_SETTINGS") or get_settings()


def get_store(crawler: Crawler) -> Store:
    """One Store per crawler, opened on the settings' database_url."""
    store = getattr(crawler, "_newsagg_store", None)
    if store is None:
        store = Store(newsagg_settings(crawler).database_url)
        crawler._newsagg_store = store
    return store


def get_retry_book(crawler: Crawler) -> RetryBook:
    book = getattr(crawler, "_newsagg_retries", None)
    if book is None:
        book = crawler._newsagg_retries = RetryBook(get_store(crawler))
    return book


def record_skip(crawler: Crawler, reason: str, url: str | None = None, detail: str = "",
                source: str | None = None) -> None:
    """Count a skipped page by reason (Scrapy stats; per source too when known), log it, and remember permanent
    skips in the seen-set."""
    crawler.stats.inc_value(SKIP_PREFIX + reason)
    if source:
        crawler.stats.inc_value(f"{SOURCE_SKIP_PREFIX}{source}/{reason}")
    log.info("skipped (%s) %s %s", reason, url or "", detail)
    if url and reason not in TRANSIENT:
        get_store(crawler).mark_seen(url, f"skipped/{reason}"[:40])


def record_failure(crawler: Crawler, reason: str, url: str | None, *, source: str = "",
                   retry_after: float | None = None, detail: str = "") -> None:
    """An article download that gave no page: final failures are marked seen; 404/410 after N tries; anything
    else (403, 5xx, long Retry-After, timeouts, TLS, dropped connections, empty 200s) is booked for a later crawl
    with backoff, and given up (marked seen, counted as gave_up/<reason>) after crawl.retry_max_attempts."""
    if url is None or reason in FINAL_FAILURES:
        record_skip(crawler, reason, url, detail, source=source or None)
        return
    policy = RetryPolicy.from_settings(newsagg_settings(crawler).crawl)
    book = get_retry_book(crawler)
    attempts = book.failed(url, source, reason, policy, retry_after)
    limit = policy.permanent_after if reason in PERMANENT_AFTER_TRIES else policy.max_attempts
    if attempts >= limit:
        book.clear(url)
        final = reason if reason in PERMANENT_AFTER_TRIES else f"gave_up/{reason}"
        record_skip(crawler, final, url, f"{detail} (after {attempts} tries)", source=source or None)
        return
    crawler.stats.inc_value(SKIP_PREFIX + reason)
    if source:
        crawler.stats.inc_value(f"{SOURCE_SKIP_PREFIX}{source}/{reason}")
    crawler.stats.inc_value(RETRY_BOOKED)
    log.info("failed (%s, try %d of %d, retried by a later crawl) %s %s", reason, attempts, limit, url, detail)


def skips_from_stats(stats: dict) -> dict[str, int]:
    return {k[len(SKIP_PREFIX):]: v for k, v in stats.items() if k.startswith(SKIP_PREFIX)}
