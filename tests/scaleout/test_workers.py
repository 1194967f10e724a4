"""Three `newsagg crawl` workers over the demo sites, sharing a Redis frontier and one PostgreSQL store.

Every on-topic article is stored exactly once, no article page is fetched twice, each site's request rate stays
within its Crawl-delay for all workers together (from the demo server's request log), and a worker killed with
SIGKILL mid-crawl loses nothing: its leased requests expire and the others crawl them.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from newsagg.demo import local_crawl_env
from newsagg.demo.server import ROBOTS, DemoSites
from newsagg.store import Store

PY = sys.executable
EXPECTED = ("stored", "paywalled", "syndicated")


def crawl_delay(outlet: str) -> float:
    line = next((ln for ln in ROBOTS[outlet].splitlines() if ln.startswith("Crawl-delay:")), "Crawl-delay: 0")
    return float(line.split(":", 1)[1])


def start_workers(n: int, registry: Path, env: dict, tmp_path: Path) -> list[subprocess.Popen]:
    """n `newsagg crawl` processes of one group: they join the group's current run in Redis."""
    argv = [PY, "-m", "newsagg.app.cli", "crawl", "--registry", str(registry), "--group", "demo", "--quiet"]
    return [subprocess.Popen(argv, env=env, stdout=open(tmp_path / f"worker{i}.log", "w"),  # noqa: SIM115
                             stderr=subprocess.STDOUT) for i in range(n)]


def finish(workers: list[subprocess.Popen], timeout: float = 180) -> list[int]:
    deadline = time.monotonic() + timeout
    try:
        return [w.wait(timeout=max(1.0, deadline - time.monotonic())) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()


def logs(tmp_path: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-4000:]}" for p in sorted(tmp_path.glob("worker*.log")))


@pytest.fixture
def setup(redis_url, prefix, pg_database_url, tmp_path):
    """Demo sites, a migrated PostgreSQL store and the environment of workers sharing this test's Redis prefix."""
    with DemoSites() as sites:
        registry, _ = sites.write_files(tmp_path)
        store = Store(pg_database_url)
        env = local_crawl_env(NEWSAGG_DATABASE_URL=pg_database_url, NEWSAGG_REDIS_URL=redis_url,
                              NEWSAGG_SCHEDULE__REDIS_PREFIX=prefix, NEWSAGG_CRAWL__RETRY_TIMES="1")
        wanted = {e["url"] for e in sites.ground_truth() if e["expect"] in EXPECTED}
        yield sites, registry, store, env, wanted
        store.close()


def leases_of(redis_client, prefix: str, pid: int) -> int:
    """How many requests the worker with this pid holds (lease ids are '<host>:<pid>:<token>:<n>')."""
    return sum(1 for key in redis_client.scan_iter(f"{prefix}:crawl:*:leases")
               for lease in redis_client.hkeys(key) if lease.decode().split(":")[1] == str(pid))


def assert_each_stored_once(store: Store, wanted: set[str], tmp_path: Path | None = None) -> None:
    urls = [a.url for a in store.iter_articles()]
    assert len(urls) == len(set(urls))
    missing = sorted(wanted - set(urls))
    # the workers' log lines about a missing article say where it went
    trail = [ln for p in sorted(tmp_path.glob("worker*.log")) if missing
             for ln in p.read_text().splitlines() if any(u in ln for u in missing)] if tmp_path else []
    assert set(urls) == wanted, f"missing {missing[:3]}, extra {sorted(set(urls) - wanted)[:3]}; {trail[:20]}"


@pytest.mark.slow
def test_three_workers_share_the_frontier_and_each_sites_pace(setup, tmp_path, redis_client, prefix):
    """Started the way a deployment does: `newsagg schedule --once` with a group of three workers."""
    sites, registry, store, env, wanted = setup
    group = f'[{{"name": "demo", "every": "1h", "workers": 3, "registry": "{registry}"}}]'
    env = {**env, "NEWSAGG_SCHEDULE__GROUPS": group, "NEWSAGG_SCHEDULE__INDEX_AFTER_CRAWL": "false",
           "NEWSAGG_DATA_DIR": str(tmp_path)}
    with open(tmp_path / "worker-all.log", "w") as log:
        scheduler = subprocess.run([PY, "-m", "newsagg.app.cli", "schedule", "--once"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, timeout=240)
    assert scheduler.returncode == 0, logs(tmp_path)
    assert_each_stored_once(store, wanted)

    runs = store.runs()
    assert len(runs) == 3 and all(r.status == "finished" and r.group == "demo" and r.exit_code == 0 for r in runs)
    assert len({r.worker for r in runs}) == 3
    assert all(r.stats["requests"] > 10 for r in runs), [r.stats for r in runs]  # the work was shared
    assert sum(r.stats["new"] for r in runs) == len(wanted)
    fetched = Counter((r.outlet, r.path) for r in sites.article_requests())
    assert max(fetched.values()) == 1, [k for k, v in fetched.items() if v > 1][:3]  # one fetch per article

    for outlet in ("voltwire", "gigadrive"):  # the outlets whose robots.txt asks for a Crawl-delay
        delay = crawl_delay(outlet)
        times = sorted(r.at for r in sites.requests if r.outlet == outlet)
        assert len(times) > 30
        # all three workers together: on average no faster than the Crawl-delay …
        assert (times[-1] - times[0]) / (len(times) - 1) >= 0.95 * delay, outlet
        # … and never a burst: in any one-second window at most 1/delay (+1 at the edges, +1 for the jitter of
        # busy processes between a granted turn and the send). Three unshared workers would make ~3/delay.
        busiest = max(sum(1 for u in times[i:] if u - t < 1.0) for i, t in enumerate(times))
        assert busiest <= 1 / delay + 2, (outlet, busiest)
    assert not list(redis_client.scan_iter(f"{prefix}:crawl:*"))  # the last worker out removed the run's keys


@pytest.mark.slow
def test_a_worker_killed_mid_crawl_loses_nothing(setup, tmp_path, redis_client, prefix):
    sites, registry, store, env, wanted = setup
    env = {**env, "NEWSAGG_SCALEOUT__LEASE_SECONDS": "2"}  # a dead worker's requests come back after 2 s
    workers = start_workers(3, registry, env, tmp_path)
    victim = None
    try:
        # Killed mid-crawl for sure: once articles are being stored, whichever worker then holds leases.
        deadline = time.monotonic() + 90
        while victim is None and time.monotonic() < deadline:
            if store.count_articles() >= 10:
                victim = next((w for w in workers if leases_of(redis_client, prefix, w.pid) >= 2), None)
            time.sleep(0.02)
        assert victim is not None, logs(tmp_path)
    finally:
        (victim or workers[0]).send_signal(signal.SIGKILL)
    codes = finish(workers)
    others = [i for i, w in enumerate(workers) if w is not victim]
    assert [codes[i] for i in others] == [0, 0], logs(tmp_path)
    assert_each_stored_once(store, wanted, tmp_path)
    survivors = "".join((tmp_path / f"worker{i}.log").read_text() for i in others)
    assert "whose worker stopped renewing its lease" in survivors  # the dead worker's leases were taken over
    statuses = sorted(r.status for r in store.runs())
    assert statuses == ["finished", "finished", "running"]  # the dead one never recorded an end
    assert not list(redis_client.scan_iter(f"{prefix}:crawl:*"))
