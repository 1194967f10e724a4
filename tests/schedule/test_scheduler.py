"""`newsagg schedule` for real: scheduled crawls as child processes, locks, exit statuses, a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from newsagg.app.schedule import FileGroupLock, Scheduler, close_dead_runs, worker_name
from newsagg.config import ScheduleGroup, Settings
from newsagg.demo.server import FEED_PATHS
from newsagg.models import CrawlRun
from newsagg.store import Store
from tests.schedule.sched_support import crawl_env, expected_urls, running, wait_for

PY = sys.executable


def runs_of(store: Store, group: str) -> list[CrawlRun]:
    with store.session() as s:
        return list(s.scalars(select(CrawlRun).where(CrawlRun.group == group).order_by(CrawlRun.id)))


def pid_of(run: CrawlRun) -> int:
    return int(run.worker.rsplit(":", 1)[1])


def alive(pid: int) -> bool:
    return running(pid)


def write_config(tmp_path: Path, registry: Path, group: str, extra: str = "") -> Path:
    marker = tmp_path / "index.log"
    path = tmp_path / "newsagg.toml"
    path.write_text(
        f'data_dir = "{tmp_path}"\n[schedule]\nstop_timeout = 20\n'
        f'index_command = ["{PY}", "-c", "import sys; open(sys.argv[1], \'a\').write(\'indexed\\\\n\')", "{marker}"]\n'
        f"{extra}\n[[schedule.groups]]\n{group}\nregistry = \"{registry}\"\n", encoding="utf-8")
    return path


def start_scheduler(tmp_path: Path, env: dict, *args: str) -> subprocess.Popen:
    log = open(tmp_path / "scheduler.log", "w")  # noqa: SIM115 — closed with the process
    return subprocess.Popen([PY, "-m", "newsagg.app.cli", "schedule", *args], env=env, stdout=log,
                            stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_two_scheduled_runs_then_nothing_new(sites, tmp_path):
    """The done-criterion: every 2 s, two consecutive runs; the second stores nothing; the index runs after new."""
    registry, _ = sites.write_files(tmp_path)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(db)  # migrated before the scheduler and its crawls open it
    config = write_config(tmp_path, registry, 'name = "demo"\nevery = "2s"')
    proc = start_scheduler(tmp_path, crawl_env(db, NEWSAGG_CONFIG=str(config)))
    try:
        # finished, and seen exiting by the scheduler (it adds the exit status once the process is gone)
        def done() -> list[CrawlRun]:
            return [r for r in runs_of(store, "demo") if r.status == "finished" and r.exit_code is not None]

        wait_for(lambda: len(done()) >= 2, timeout=120, what="two finished scheduled runs")
        time.sleep(0.5)  # let the scheduler react to the second run (no index: nothing new)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=40)
    log = (tmp_path / "scheduler.log").read_text()
    assert code == 0, log[-3000:]
    wanted = expected_urls(sites)
    first, second = runs_of(store, "demo")[:2]  # as the scheduler left them (exit status added after exit)
    assert first.exit_code == 0 and second.exit_code == 0
    assert first.stats["new"] == len(wanted)
    assert second.stats["new"] == 0 and second.stats["pages"] == 0 and second.stats["not_modified"] >= 4
    assert second.started_at >= first.finished_at  # one crawl of a group at a time
    assert sorted(a.url for a in store.iter_articles()) == sorted(wanted)
    # index: the catch-up at start, then after the run that stored articles; not after the one that stored none
    assert (tmp_path / "index.log").read_text().count("indexed") == 2, log[-3000:]
    assert FileGroupLock(tmp_path / "locks" / "crawl-demo.lock").acquire()  # released on stop
    store.close()


@pytest.mark.slow
def test_sigterm_stops_a_running_crawl_cleanly_and_releases_the_lock(slow_sites, tmp_path):
    registry, _ = slow_sites.write_files(tmp_path)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(db)
    config = write_config(tmp_path, registry, 'name = "slow"\nevery = "1h"\ndiscover = "feeds"',
                          "index_after_crawl = false")
    proc = start_scheduler(tmp_path, crawl_env(db, NEWSAGG_CONFIG=str(config)))
    try:
        wait_for(lambda: store.count_articles() >= 5, timeout=60, what="a crawl under way")
    finally:
        stopped_at = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=40)
    took = time.monotonic() - stopped_at
    log = (tmp_path / "scheduler.log").read_text()
    assert code == 0, log[-3000:]
    (run,) = runs_of(store, "slow")
    # Scrapy's own clean shutdown: the run recorded its end itself; the scheduler added the exit status
    assert run.status == "failed:shutdown" and run.exit_code == 1 and run.finished_at is not None, log[-3000:]
    assert took < 20  # stopped cleanly, not killed after stop_timeout
    assert not alive(pid_of(run))
    assert 0 < store.count_articles() < len(expected_urls(slow_sites))
    paths = {r.path for r in slow_sites.requests}
    assert set(FEED_PATHS.values()) <= paths and not any("sitemap" in p for p in paths)  # discover = "feeds"
    assert FileGroupLock(tmp_path / "locks" / "crawl-slow.lock").acquire()
    store.close()


@pytest.mark.slow
def test_a_crawl_seen_dying_is_recorded_killed(slow_sites, tmp_path, monkeypatch):
    registry, _ = slow_sites.write_files(tmp_path)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    for key, value in crawl_env(db).items():
        if key.startswith("NEWSAGG_"):
            monkeypatch.setenv(key, value)
    group = ScheduleGroup(name="victim", every="1h", registry=registry, discover="sitemaps")
    settings = Settings(data_dir=tmp_path, database_url=db, schedule={"groups": [group], "index_after_crawl": False})
    scheduler = Scheduler(settings)
    store = scheduler.store

    def kill_mid_crawl() -> None:
        wait_for(lambda: store.count_articles() >= 3, timeout=60, what="articles")
        os.kill(pid_of(runs_of(store, "victim")[0]), signal.SIGKILL)

    killer = threading.Thread(target=kill_mid_crawl)
    killer.start()
    outcome = scheduler.run_group(group)
    killer.join()
    assert outcome.status == "killed" and outcome.exit_codes == (-signal.SIGKILL,)
    (run,) = runs_of(store, "victim")
    assert run.status == "killed" and run.exit_code == -signal.SIGKILL and run.finished_at is not None
    assert scheduler.lock_for(group).acquire()
    paths = {r.path for r in slow_sites.requests}
    assert any("sitemap" in p for p in paths) and not paths & set(FEED_PATHS.values())  # discover = "sitemaps"


@pytest.mark.slow
def test_once_records_a_crawl_that_died_before_starting(tmp_path):
    db = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(db)
    config = write_config(tmp_path, tmp_path / "missing.toml", 'name = "broken"\ncron = "0 * * * *"',
                          "index_after_crawl = false")
    proc = subprocess.run([PY, "-m", "newsagg.app.cli", "schedule", "--once"],
                          env=crawl_env(db, NEWSAGG_CONFIG=str(config)), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "broken: failed" in proc.stdout
    (run,) = runs_of(store, "broken")
    assert run.status == "failed" and run.exit_code not in (0, None) and run.finished_at is not None


def test_a_locked_group_is_skipped(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 's.db'}")
    scheduler = Scheduler(settings)
    group = ScheduleGroup(name="busy", every="1m", registry=tmp_path / "never-read.toml")
    holder = subprocess.Popen(  # another scheduler on this machine, crawling this group right now
        [PY, "-c", "import sys, time; from filelock import FileLock; lock = FileLock(sys.argv[1]); lock.acquire(); "
                   "print('held', flush=True); time.sleep(60)", str(tmp_path / "locks" / "crawl-busy.lock")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert scheduler.run_group(group).status == "locked"
        assert runs_of(scheduler.store, "busy") == []
    finally:
        holder.kill()  # kill -9: the kernel drops its lock
        holder.wait()
    assert FileGroupLock(tmp_path / "locks" / "crawl-busy.lock").acquire()


def test_runs_of_dead_processes_are_closed_at_start(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    dead = subprocess.Popen([PY, "-c", "pass"])
    dead.wait()
    gone = store.start_run("g", ["a"], worker=worker_name(dead.pid))
    mine = store.start_run("g", ["a"], worker=worker_name(os.getpid()))  # still running (this process)
    elsewhere = store.start_run("g", ["a"], worker="another-host:1")
    assert close_dead_runs(store) == 1
    status = {r.id: r.status for r in store.runs()}
    assert status == {gone: "killed", mine: "running", elsewhere: "running"}
