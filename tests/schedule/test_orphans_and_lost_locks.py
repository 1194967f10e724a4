"""A crawl never outlives what makes it exclusive: its scheduler (kill -9) or its group's Redis lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
from tests.schedule.sched_support import crawl_env, expected_urls, running, wait_for
from sqlalchemy import select

from newsagg.config import ScheduleGroup, Settings
from newsagg.models import CrawlRun
from newsagg.app.schedule import Scheduler
from newsagg.store import Store

PY = sys.executable
REDIS_URL = os.environ.get("NEWSAGG_TEST_REDIS_URL")


def crawl_pids(store: Store) -> list[int]:
    with store.session() as s:
        return [int(w.rsplit(":", 1)[1]) for w in s.scalars(select(CrawlRun.worker))]


def gone(pid: int) -> bool:
    return not running(pid)


@pytest.mark.slow
def test_crawl_children_die_with_a_killed_scheduler(slow_sites, tmp_path):
    """kill -9 frees the scheduler's group lock at once; its crawl must not go on fetching beside the next one."""
    registry, _ = slow_sites.write_files(tmp_path)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(db)
    config = tmp_path / "newsagg.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n[schedule]\nindex_after_crawl = false\n'
                      f'[[schedule.groups]]\nname = "orphan"\nevery = "1h"\nregistry = "{registry}"\n')
    scheduler = subprocess.Popen([PY, "-m", "newsagg.app.cli", "schedule"], env=crawl_env(db, NEWSAGG_CONFIG=str(config)),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: store.count_articles() >= 3, timeout=90, what="a crawl under way")
        (child,) = crawl_pids(store)
    finally:
        scheduler.kill()
        killed_at = time.time()
        scheduler.wait()
    wait_for(lambda: gone(child), timeout=5, interval=0.02, what="the crawl child to die with its scheduler")
    died_within = time.time() - killed_at
    time.sleep(0.5)
    late = [r for r in slow_sites.requests if r.at > killed_at + 0.3]
    assert late == [], f"{len(late)} request(s) after the scheduler was killed (child died after {died_within:.2f}s)"
    assert store.count_articles() < len(expected_urls(slow_sites))
    store.close()


@pytest.fixture
def redis_prefix():
    if not REDIS_URL:
        pytest.skip("Redis not configured: set NEWSAGG_TEST_REDIS_URL to run the Redis lock test")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    name = f"newsagg-test-{uuid.uuid4().hex[:10]}"
    yield client, name
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.mark.slow
def test_a_lost_redis_lock_stops_the_groups_crawl(slow_sites, tmp_path, monkeypatch, redis_prefix):
    client, prefix = redis_prefix
    registry, _ = slow_sites.write_files(tmp_path)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    for key, value in crawl_env(db, NEWSAGG_SCHEDULE__REDIS_PREFIX=prefix).items():
        if key.startswith("NEWSAGG_"):
            monkeypatch.setenv(key, value)
    group = ScheduleGroup(name="contested", every="1h", registry=registry, discover="feeds")
    settings = Settings(data_dir=tmp_path, database_url=db, redis_url=REDIS_URL,
                        schedule={"groups": [group], "index_after_crawl": False, "redis_prefix": prefix,
                                  "lock_ttl": 2.0, "stop_timeout": 20})
    scheduler = Scheduler(settings)
    store = scheduler.store
    lock_key = f"{prefix}:lock:group:contested"
    taken: list[float] = []

    def take_the_lock_away() -> None:  # its lease ran out while Redis was unreachable; another holder took it
        wait_for(lambda: store.count_articles() >= 3, timeout=90, what="a crawl under way")
        client.set(lock_key, b"another-scheduler", px=60_000)
        taken.append(time.monotonic())

    thief = threading.Thread(target=take_the_lock_away)
    thief.start()
    outcome = scheduler.run_group(group, index=False)
    stopped = time.monotonic()
    thief.join()
    assert outcome.status == "lock_lost"
    assert stopped - taken[0] < 15  # noticed within a renewal period, then Scrapy's clean shutdown
    (run,) = [r for r in store.runs() if r.group == "contested"]
    assert run.status == "failed:shutdown", run.status
    assert store.count_articles() < len(expected_urls(slow_sites))
    assert client.get(lock_key) == b"another-scheduler"  # the new holder's lock is left alone
