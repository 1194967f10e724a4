"""Failed downloads of articles that may pass: booked with their attempt count and next-try time, so a later crawl
tries them again (exponential backoff) instead of the seen-set forgetting them for good.

This module is the policy (how long to wait); the `crawl_retries` table itself is the Store's (newsagg/store.py).
What counts as permanent (marked seen at once, or 404/410 after crawl.permanent_after_tries tries) and what is
given up after crawl.retry_max_attempts is decided by `crawler.runtime.record_failure`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from newsagg.config import CrawlSettings
from newsagg.models import CrawlRetry
from newsagg.store import Store


@dataclass(frozen=True)
class RetryPolicy:
    base_delay: float
    max_delay: float
    max_attempts: int
    permanent_after: int

    @classmethod
    def from_settings(cls, crawl: CrawlSettings) -> "RetryPolicy":
        return cls(crawl.retry_base_delay, crawl.retry_max_delay, crawl.retry_max_attempts,
                   crawl.permanent_after_tries)

    def wait(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds before try number attempts + 1: base × 2^(attempts-1), capped; a server's Retry-After wins."""
        backoff = min(self.max_delay, self.base_delay * 2 ** min(attempts - 1, 40))
        return max(backoff, retry_after or 0.0)


class RetryBook:
    """A crawl's view of the booked retries: record a failure under a policy, ask what is pending or due."""

    def __init__(self, store: Store):
        self.store = store

    def failed(self, url: str, source: str, reason: str, policy: RetryPolicy,
               retry_after: float | None = None) -> int:
        """Book one more failed try of url; returns how many tries have failed so far."""
        return self.store.book_retry(url, source, reason, lambda attempts: policy.wait(attempts, retry_after)).attempts

    def pending(self, urls: Sequence[str]) -> dict[str, CrawlRetry]:
        """The booked retries among these URLs, by URL."""
        return {row.url: row for row in self.store.retries_of(urls)}

    def due(self, sources: Sequence[str], limit: int = 10_000) -> list[CrawlRetry]:
        """Retries of these sources whose time has come, oldest first (URLs seen since are dropped first)."""
        self.store.forget_seen_retries()
        return self.store.due_retries(sources, limit)

    def clear(self, url: str) -> None:
        self.store.clear_retry(url)

    def forget_seen(self) -> int:
        """Drop bookings of URLs that reached the seen-set meanwhile."""
        return self.store.forget_seen_retries()
