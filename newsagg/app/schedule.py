"""`newsagg schedule`: recurring crawls per source group, each followed by an incremental index update.

- Each crawl is a child process, `python -m newsagg.app.cli crawl --group NAME …` (Scrapy's reactor cannot restart).
- Never two crawls of one group at once: a file lock on one machine, a Redis lock (a renewed lease) with redis_url.
- Missed runs coalesce into one (APScheduler 3: coalesce, max_instances=1, misfire_grace_time).
- The crawl's own crawl_runs row gets the child's exit status; a child seen dying leaves "killed" or "failed".
- SIGTERM/SIGINT: no new runs; children get SIGTERM (Scrapy's clean shutdown), SIGKILL after stop_timeout;
  locks are released. A lost Redis lock stops the group's crawl the same way.
- A child dies with its scheduler (kill -9 included): the kernel kills it (`watch_parent`, PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import logging
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol

import psutil

from newsagg.app.processes import Stopping, cli_argv, run_child
from newsagg.config import ScheduleGroup, Settings, get_settings
from newsagg.models import CrawlRun, utcnow
from newsagg.store import Store

log = logging.getLogger(__name__)
# Kept by hand: pydantic's timedelta reads ISO 8601 ("PT15M") and "1d", but not "90s", "15m" or "1h30m".
_EVERY_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_every(text: str) -> timedelta:
    """'90s', '15m', '1h30m', '1d' or bare seconds ('45') as a timedelta."""
    text = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        seconds = float(text)
    else:
        parts = _EVERY_PART.findall(text)
        if not parts or _EVERY_PART.sub("", text).strip():
            raise ValueError(f"unreadable interval {text!r} (use e.g. 90s, 15m, 1h30m, 1d)")
        seconds = sum(float(n) * _UNITS[u.lower()] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"interval must be positive: {text!r}")
    return timedelta(seconds=seconds)


def make_trigger(group: ScheduleGroup, tz: str):
    """An APScheduler trigger for the group: IntervalTrigger for `every`, CronTrigger for `cron`."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if group.every:
        return IntervalTrigger(seconds=parse_every(group.every).total_seconds(), timezone=tz)
    return CronTrigger.from_crontab(group.cron, timezone=tz)


# ---- locks --------------------------------------------------------------------------------------------
class GroupLock(Protocol):
    lost_event: threading.Event  # set when the lock is no longer ours: the group's crawl must stop

    def acquire(self) -> bool: ...
    def release(self) -> None: ...


class FileGroupLock:
    """One machine: an OS file lock (filelock); the kernel drops it when the holder dies."""

    def __init__(self, path: Path):
        from filelock import FileLock

        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(str(path), thread_local=False)
        self.lost_event = threading.Event()  # never set: a file lock is held until released or the process dies

    def acquire(self) -> bool:
        from filelock import Timeout

        try:
            self._lock.acquire(timeout=0)
            return True
        except Timeout:
            return False

    def release(self) -> None:
        self._lock.release(force=True)


class RedisGroupLock:
    """Many machines: a Redis lock with a lease, renewed by a thread while held (a dead holder's lease expires).

    Lost — taken over, or not renewed for a whole lease because Redis was unreachable — sets `lost_event`, and
    the scheduler stops the group's crawl: another scheduler may be starting it. The lease is redis-py's Lock
    (`reacquire` resets it); the renewal loop stays ours because neither redis-py nor python-redis-lock (whose
    auto-renewal thread just ends on failure) tells the holder that the lock is lost.
    """

    def __init__(self, client, name: str, ttl: float):
        self._lock = client.lock(name, timeout=ttl, blocking=False, thread_local=False)
        self._ttl = ttl
        self._stop = threading.Event()
        self.lost_event = threading.Event()

    @property
    def lost(self) -> bool:
        return self.lost_event.is_set()

    def acquire(self) -> bool:
        if not self._lock.acquire():
            return False
        self._stop.clear()
        self.lost_event.clear()
        threading.Thread(target=self._renew, name=f"renew-{self._lock.name}", daemon=True).start()
        return True

    def _renew(self) -> None:
        from redis.exceptions import LockError, RedisError

        renewed = time.monotonic()
        while not self._stop.wait(self._ttl / 3):
            try:
                self._lock.reacquire()
                renewed = time.monotonic()
                continue
            except LockError as exc:  # the key expired or belongs to someone else now
                why = str(exc) or "not owned any more"
            except RedisError as exc:  # unreachable: the lease may still be ours until it runs out
                if time.monotonic() - renewed < self._ttl:
                    log.warning("cannot renew the Redis lock %s (%s); retrying", self._lock.name, exc)
                    continue
                why = f"not renewed for {self._ttl:.0f}s: {exc}"
            if not self._stop.is_set():
                log.error("lost the Redis lock %s (%s): stopping the group's crawl", self._lock.name, why)
                self.lost_event.set()
            return

    def release(self) -> None:
        from redis.exceptions import LockError, RedisError

        self._stop.set()
        try:
            self._lock.release()
        except (LockError, RedisError):
            pass  # expired, taken over or unreachable: nothing of ours to release


# ---- crawl-run history --------------------------------------------------------------------------------
def worker_name(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}"


def record_exit(store: Store, group: ScheduleGroup, pid: int, started: datetime, code: int) -> CrawlRun | None:
    """Attach the exit status to the child's crawl run; a run left "running" becomes killed/failed."""
    return store.record_exit(worker_name(pid), started, code, "killed" if code < 0 else "failed",
                             group=group.name, sources=group.sources)


def close_dead_runs(store: Store) -> int:
    """Runs of this host still "running" whose process is gone (e.g. host crash, kill -9) become "killed"."""
    dead = []
    for run in store.running_runs(socket.gethostname() + ":"):
        pid = run.worker.rsplit(":", 1)[-1]
        if pid.isdigit() and not _running_since(int(pid), run.started_at):
            dead.append(run.id)
    store.end_runs(dead, "killed")
    return len(dead)


def _running_since(pid: int, started: datetime) -> bool:
    """True if process pid exists and is not a newer process that got a recycled pid."""
    try:
        began = psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # e.g. access denied: it exists, and we cannot tell when it began
        return True
    return began <= started.timestamp() + 2.0


@dataclass
class GroupOutcome:
    group: str
    status: str  # finished | failed:<reason> | failed | killed | locked | lock_lost
    new: int = 0
    exit_codes: tuple[int, ...] = ()


# ---- the scheduler ------------------------------------------------------------------------------------
class Scheduler:
    """Runs the configured groups: once (`run_once`) or on their triggers until stopped (`run_forever`)."""

    def __init__(self, settings: Settings | None = None, python: str = sys.executable):
        self.settings = settings or get_settings()
        self.cfg = self.settings.schedule
        self.python = python
        self.stopping = Stopping()
        self.store = Store(self.settings.database_url)
        self._redis = None
        if self.settings.redis_url:
            import redis

            self._redis = redis.Redis.from_url(self.settings.redis_url)
        elif any(g.workers > 1 for g in self.cfg.groups):
            raise ValueError("schedule groups with workers > 1 need redis_url (they share a Redis frontier)")
        self._index_lock = threading.Lock()
        self._index_dirty = self.cfg.index_after_crawl  # a previous process may have died mid-update: catch up
        # Children work on this scheduler's store, data and Redis, whatever their own environment says.
        self.child_env = {"NEWSAGG_DATABASE_URL": self.settings.database_url,
                          "NEWSAGG_DATA_DIR": str(self.settings.data_dir)}
        if self.settings.redis_url:
            self.child_env["NEWSAGG_REDIS_URL"] = self.settings.redis_url

    # ---- one group ----------------------------------------------------------------------------------
    def lock_for(self, group: ScheduleGroup) -> GroupLock:
        if self._redis is not None:
            return RedisGroupLock(self._redis, f"{self.cfg.redis_prefix}:lock:group:{group.name}", self.cfg.lock_ttl)
        lock_dir = self.cfg.lock_dir or self.settings.data_dir / "locks"
        return FileGroupLock(Path(lock_dir) / f"crawl-{group.name}.lock")

    def crawl_argv(self, group: ScheduleGroup) -> list[str]:
        argv = cli_argv("crawl", "--group", group.name, "--quiet", python=self.python)
        if group.sources and "*" not in group.sources:
            argv += ["--sources", ",".join(group.sources)]
        if group.discover != "all":
            argv += ["--discover", group.discover]
        if group.registry:
            argv += ["--registry", str(group.registry)]
        return argv

    def run_group(self, group: ScheduleGroup, index: bool = True) -> GroupOutcome:
        """Crawl one group under its lock, record how each crawl process ended, then update the index."""
        if self.stopping.soft.is_set():
            return GroupOutcome(group.name, "stopped")
        lock = self.lock_for(group)
        if not lock.acquire():
            log.warning("group %s: skipped, a crawl of it is still running (lock held)", group.name)
            return GroupOutcome(group.name, "locked")
        try:
            outcome = self._crawl(group, lock.lost_event)
        finally:
            lock.release()
        if lock.lost_event.is_set():
            outcome.status = "lock_lost"
        log.info("group %s: %s, %d new article(s)", group.name, outcome.status, outcome.new)
        if outcome.status != "finished" or outcome.new:  # a failed crawl may have stored some before it died
            self._index_dirty = self._index_dirty or self.cfg.index_after_crawl
        if index:
            self.update_index()
        return outcome

    def _crawl(self, group: ScheduleGroup, lock_lost: threading.Event) -> GroupOutcome:
        started = utcnow() - timedelta(seconds=1)
        argv = self.crawl_argv(group)
        pids: list[int | None] = [None] * group.workers
        codes: list[int] = [0] * group.workers
        followers: list[threading.Thread] = []

        def one(i: int) -> None:
            def on_start(proc: subprocess.Popen) -> None:
                pids[i] = proc.pid
                if i == 0:
                    followers.extend(self._follow(proc.pid))

            try:
                codes[i] = run_child(argv, stopping=self.stopping, timeout=self.cfg.crawl_timeout,
                                     stop_timeout=self.cfg.stop_timeout, on_start=on_start, env=self.child_env,
                                     lost=lock_lost)
            except OSError as exc:
                log.error("group %s: cannot start the crawl: %s", group.name, exc)
                codes[i] = 127

        log.info("group %s: %s", group.name, " ".join(argv[1:]))
        threads = [threading.Thread(target=one, args=(i,), name=f"{group.name}-{i}") for i in range(group.workers)]
        for t in threads:
            t.start()
        for t in threads + followers:
            t.join()
        runs = [record_exit(self.store, group, pid, started, code) for pid, code in zip(pids, codes) if pid]
        statuses = [r.status if r is not None else "finished" for r in runs]
        if not all(pids):
            statuses.append("failed")
        status = next((s for s in statuses if s != "finished"), "finished")
        new = sum(int((r.stats or {}).get("new", 0)) for r in runs if r is not None)
        return GroupOutcome(group.name, status, new, tuple(codes))

    # ---- the index ----------------------------------------------------------------------------------
    def _follow(self, crawl_pid: int) -> list[threading.Thread]:
        """With index_while_crawling, a `newsagg index --follow-pid` child embeds while the crawl stores."""
        argv = self.index_argv()
        if not (self.cfg.index_while_crawling and self.cfg.index_after_crawl and argv[-1] == "index"):
            return []  # a custom index command cannot follow a crawl: it runs after it, as before

        def follow() -> None:
            code = run_child([*argv, "--follow-pid", str(crawl_pid)], stopping=self.stopping,
                             timeout=self.cfg.crawl_timeout, stop_timeout=self.cfg.stop_timeout, env=self.child_env)
            if code != 0:
                log.warning("indexing beside the crawl failed (exit %s); the index update after it catches up", code)

        thread = threading.Thread(target=follow, name=f"index-follow-{crawl_pid}", daemon=True)
        thread.start()
        return [thread]

    def index_argv(self) -> list[str]:
        return list(self.cfg.index_command) or cli_argv("index", python=self.python)

    def update_index(self) -> bool | None:
        """Run the incremental index update while something is new; None when another thread is already on it."""
        while self._index_dirty and not self.stopping.soft.is_set():
            if not self._index_lock.acquire(blocking=False):
                return None  # the holder re-checks `dirty` after its run and picks up what this crawl stored
            try:
                self._index_dirty = False
                code = run_child(self.index_argv(), stopping=self.stopping, timeout=self.cfg.crawl_timeout,
                                 stop_timeout=self.cfg.stop_timeout, env=self.child_env)
            finally:
                self._index_lock.release()
            if code != 0:
                log.error("index update failed (exit %s); retried after the next crawl", code)
                self._index_dirty = True
                return False
        return True

    # ---- running ------------------------------------------------------------------------------------
    def run_once(self, names: list[str] | None = None) -> list[GroupOutcome]:
        """Every (or the named) group once, one after another, then the index; for cron and tests."""
        groups = self._select(names)
        self._recover()
        outcomes = []
        for group in groups:
            if self.stopping.soft.is_set():
                break
            outcomes.append(self.run_group(group, index=False))
        self.update_index()
        return outcomes

    def run_forever(self, names: list[str] | None = None) -> None:
        """Run the groups on their triggers until stop() (SIGTERM/SIGINT in the CLI)."""
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        groups = self._select(names)
        self._recover()
        sched = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=len(groups) + 1)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": self.cfg.misfire_grace_seconds},
            timezone=self.cfg.timezone,
        )
        now = datetime.now(timezone.utc)
        for group in groups:
            first = {"next_run_time": now} if group.every and self.cfg.run_at_start else {}
            sched.add_job(self.run_group, make_trigger(group, self.cfg.timezone), args=[group], id=group.name,
                          name=f"crawl {group.name}", **first)
        sched.add_job(self.update_index, id="index-catch-up", next_run_time=now)  # after a crash mid-update
        sched.start()
        for job in sched.get_jobs():
            log.info("scheduled %s: %s (next %s)", job.name, job.trigger, job.next_run_time)
        try:
            while not self.stopping.soft.wait(0.5):
                pass
        finally:
            sched.shutdown(wait=True)  # job threads return once their children have stopped
            self.store.close()

    def stop(self) -> None:
        """First call: stop cleanly; second call: kill running children."""
        self.stopping.request()

    def _select(self, names: list[str] | None) -> list[ScheduleGroup]:
        groups = [g for g in self.cfg.groups if not names or g.name in names]
        unknown = set(names or ()) - {g.name for g in groups}
        if unknown or not groups:
            raise ValueError(f"unknown schedule group(s): {', '.join(sorted(unknown)) or '(none configured)'}")
        for g in groups:
            make_trigger(g, self.cfg.timezone)  # fail at start on a bad interval or cron line
        return groups

    def _recover(self) -> None:
        closed = close_dead_runs(self.store)
        if closed:
            log.warning("%d crawl run(s) of this host died without a record: marked killed", closed)
