"""What the crawler records beside the articles: the seen-URL set, feed validators, retry bookings, runs and source
health. Mixed into newsagg.store.Store (one store, one engine); its methods use the store's session()."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from newsagg.models import (
    CrawlRetry,
    CrawlRun,
    FeedState,
    SeenUrl,
    SourceHealth,
    utcnow,
)


class CrawlLedger:
    # ---- the seen-URL set ----------------------------------------------------------------------------
    def seen(self, urls: Sequence[str]) -> set[str]:
        """Which of these URLs were already dealt with in an earlier crawl."""
        found: set[str] = set()
        urls = list(dict.fromkeys(urls))
        for i in range(0, len(urls), 500):
            with self.session() as s:
                found.update(s.scalars(select(SeenUrl.url).where(SeenUrl.url.in_(urls[i : i + 500]))))
        return found

    def mark_seen(self, url: str, status: str, article_id: int | None = None) -> None:
        with self.session() as s:
            s.merge(SeenUrl(url=url, status=status, article_id=article_id, seen_at=utcnow()))

    # ---- feed validators -----------------------------------------------------------------------------
    def feed_state(self, url: str) -> FeedState | None:
        with self.session() as s:
            return s.get(FeedState, url)

    def save_feed_state(self, url: str, etag: str | None, last_modified: str | None) -> None:
        with self.session() as s:
            s.merge(FeedState(url=url, etag=etag, last_modified=last_modified, fetched_at=utcnow()))

    # ---- crawl retries: articles whose download failed for a passing reason (policy: crawler/retries.py) ----
    def book_retry(self, url: str, source: str, reason: str, wait: Callable[[int], float]) -> CrawlRetry:
        """One more failed try of url; the next try is `wait(attempts)` seconds away. Returns the booking."""
        for attempt in range(2):
            try:
                with self.session() as s:
                    now = utcnow()
                    row = s.get(CrawlRetry, url)
                    if row is None:
                        row = CrawlRetry(url=url, source=source[:100], attempts=0, first_failed_at=now)
                        s.add(row)
                    row.attempts += 1
                    row.reason, row.last_failed_at = reason[:40], now
                    row.next_try_at = now + timedelta(seconds=wait(row.attempts))
                    return row
            except IntegrityError:  # another worker booked it between our get and insert: add to theirs
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def retries_of(self, urls: Sequence[str]) -> list[CrawlRetry]:
        """The bookings among these URLs."""
        found: list[CrawlRetry] = []
        urls = list(dict.fromkeys(urls))
        for i in range(0, len(urls), 500):
            with self.session() as s:
                found.extend(s.scalars(select(CrawlRetry).where(CrawlRetry.url.in_(urls[i : i + 500]))))
        return found

    def due_retries(self, sources: Sequence[str], limit: int) -> list[CrawlRetry]:
        """Bookings of these sources whose next try has come, oldest first."""
        with self.session() as s:
            return list(s.scalars(select(CrawlRetry).where(CrawlRetry.source.in_(list(sources)),
                                                           CrawlRetry.next_try_at <= utcnow())
                                  .order_by(CrawlRetry.next_try_at).limit(limit)))

    def clear_retry(self, url: str) -> None:
        with self.session() as s:
            s.execute(delete(CrawlRetry).where(CrawlRetry.url == url))

    def forget_seen_retries(self) -> int:
        """Drop bookings of URLs that reached the seen-set meanwhile (stored, duplicate, or skipped for good)."""
        with self.session() as s:
            return s.execute(delete(CrawlRetry).where(CrawlRetry.url.in_(select(SeenUrl.url)))).rowcount or 0

    # ---- crawl runs ----------------------------------------------------------------------------------
    def start_run(self, group: str, sources: Sequence[str], worker: str = "") -> int:
        with self.session() as s:
            run = CrawlRun(group=group, sources=list(sources), status="running", worker=worker)
            s.add(run)
            s.flush()
            return run.id

    def finish_run(self, run_id: int, status: str, stats: dict, skips: dict) -> None:
        with self.session() as s:
            s.execute(
                update(CrawlRun)
                .where(CrawlRun.id == run_id)
                .values(status=status, stats=stats, skips=skips, finished_at=utcnow())
            )

    def runs(self, limit: int = 50) -> list[CrawlRun]:
        with self.session() as s:
            return list(s.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)))

    def record_exit(self, worker: str, since: datetime, exit_code: int, died: str, *, group: str,
                    sources: Sequence[str]) -> CrawlRun | None:
        """Attach a crawl process's exit code to its newest run since `since`; a run it left "running" gets status
        `died`. A failed process that never opened a run gets one (status `died`), so the history shows it."""
        with self.session() as s:
            run = s.scalar(select(CrawlRun).where(CrawlRun.worker == worker, CrawlRun.started_at >= since)
                           .order_by(CrawlRun.id.desc()).limit(1))
            if run is None:
                if exit_code == 0:
                    return None
                run = CrawlRun(group=group, sources=list(sources), status=died, started_at=since,
                               finished_at=utcnow(), exit_code=exit_code, worker=worker)
                s.add(run)
                return run
            run.exit_code = exit_code
            if run.status == "running":
                run.status, run.finished_at = died, utcnow()
            return run

    def running_runs(self, worker_prefix: str) -> list[CrawlRun]:
        """Runs still "running" whose worker name starts with `worker_prefix` (e.g. this host's "host:")."""
        with self.session() as s:
            return list(s.scalars(select(CrawlRun).where(CrawlRun.status == "running",
                                                         CrawlRun.worker.startswith(worker_prefix, autoescape=True))))

    def end_runs(self, run_ids: Sequence[int], status: str) -> None:
        """Close runs whose process is gone (status e.g. "killed"), finished now."""
        if run_ids:
            with self.session() as s:
                s.execute(update(CrawlRun).where(CrawlRun.id.in_(list(run_ids)))
                          .values(status=status, finished_at=utcnow()))

    # ---- source health per run (written by crawler/health.py) ------------------------------------------
    def save_source_health(self, rows: Sequence[SourceHealth]) -> None:
        with self.session() as s:
            for row in rows:
                s.merge(row)

    def source_health(self, runs: int = 50, source: str | None = None) -> list[SourceHealth]:
        """Health rows of the newest `runs` crawl runs (newest run first), optionally of one source."""
        recent = select(CrawlRun.id).order_by(CrawlRun.id.desc()).limit(runs).scalar_subquery()
        stmt = select(SourceHealth).where(SourceHealth.run_id.in_(recent))
        if source:
            stmt = stmt.where(SourceHealth.source == source)
        with self.session() as s:
            return list(s.scalars(stmt.order_by(SourceHealth.run_id.desc(), SourceHealth.source)))
