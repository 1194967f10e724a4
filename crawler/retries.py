"""Failed downloads of articles that may pass: booked with their attempt count and next-try time, so a later crawl
tries them again (exponential backoff) instead of the seen-set forgetting them for good.

Owner of the `crawl_retries` table. What counts as permanent (marked seen at once, or 404/410 after
NEWSAGG_PERMANENT_AFTER_TRIES tries) and what is given up after NEWSAGG_RETRY_MAX_ATTEMPTS is decided by
`crawler.runtime.record_failure`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from newsagg.models import CrawlRetry, SeenUrl, utcnow
from newsagg.store import Store

CHUNK = 500  # URLs per IN (...) query


@dataclass(frozen=True)
class RetryPolicy:
    base_delay: float = 600.0
    max_delay: float = 86_400.0
    max_attempts: int = 8
    permanent_after: int = 2

    @classmethod
    def from_settings(cls, settings) -> "RetryPolicy":
        return cls(settings.getfloat("NEWSAGG_RETRY_BASE_DELAY", cls.base_delay),
                   settings.getfloat("NEWSAGG_RETRY_MAX_DELAY", cls.max_delay),
                   settings.getint("NEWSAGG_RETRY_MAX_ATTEMPTS", cls.max_attempts),
                   settings.getint("NEWSAGG_PERMANENT_AFTER_TRIES", cls.permanent_after))

    def wait(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds before try number attempts + 1: base × 2^(attempts-1), capped; a server's Retry-After wins."""
        backoff = min(self.max_delay, self.base_delay * 2 ** min(attempts - 1, 40))
        return max(backoff, retry_after or 0.0)


@dataclass(frozen=True)
class PendingRetry:
    url: str
    source: str
    attempts: int
    next_try_at: datetime


class RetryBook:
    """The crawl_retries table: record a failure, ask what is pending or due, clear what succeeded."""

    def __init__(self, store: Store):
        self.store = store

    def failed(self, url: str, source: str, reason: str, policy: RetryPolicy,
               retry_after: float | None = None) -> int:
        """Book one more failed try of url; returns how many tries have failed so far."""
        for attempt in range(2):
            try:
                with self.store.session() as s:
                    now = utcnow()
                    row = s.get(CrawlRetry, url)
                    if row is None:
                        row = CrawlRetry(url=url, source=source[:100], attempts=0, first_failed_at=now)
                        s.add(row)
                    row.attempts += 1
                    row.reason, row.last_failed_at = reason[:40], now
                    row.next_try_at = now + timedelta(seconds=policy.wait(row.attempts, retry_after))
                    return row.attempts
            except IntegrityError:  # another worker booked it between our get and insert: add to theirs
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def pending(self, urls: Sequence[str]) -> dict[str, PendingRetry]:
        """The booked retries among these URLs."""
        found: dict[str, PendingRetry] = {}
        urls = list(dict.fromkeys(urls))
        for i in range(0, len(urls), CHUNK):
            with self.store.session() as s:
                for row in s.scalars(select(CrawlRetry).where(CrawlRetry.url.in_(urls[i:i + CHUNK]))):
                    found[row.url] = PendingRetry(row.url, row.source, row.attempts, row.next_try_at)
        return found

    def due(self, sources: Sequence[str], limit: int = 10_000) -> list[PendingRetry]:
        """Retries of these sources whose time has come, oldest first (URLs seen since are dropped first)."""
        self.forget_seen()
        with self.store.session() as s:
            rows = s.scalars(select(CrawlRetry).where(CrawlRetry.source.in_(list(sources)),
                                                      CrawlRetry.next_try_at <= utcnow())
                             .order_by(CrawlRetry.next_try_at).limit(limit))
            return [PendingRetry(r.url, r.source, r.attempts, r.next_try_at) for r in rows]

    def clear(self, url: str) -> None:
        with self.store.session() as s:
            s.execute(delete(CrawlRetry).where(CrawlRetry.url == url))

    def forget_seen(self) -> int:
        """Drop bookings of URLs that reached the seen-set meanwhile (stored, duplicate, or skipped for good)."""
        with self.store.session() as s:
            result = s.execute(delete(CrawlRetry).where(CrawlRetry.url.in_(select(SeenUrl.url))))
            return result.rowcount or 0
