"""Memory per request: listing pages over a store of realistic-size rows (body + raw HTML) under 20 parallel
requests keeps the API process's RSS growth small. The bound is loose on purpose (the precise figure is printed
by benchmarks/abuse.py); a listing that loaded full rows (~40 KB each, all of them for a rare tag) breaks it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil
import pytest

from newsagg.demo.heavy import fill_heavy_store
from newsagg.store import Store

pytestmark = pytest.mark.slow
ROWS = 2500
GROWTH_LIMIT_MB = 100


def _serve(tmp_path, url: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "NEWSAGG_DATA_DIR": str(tmp_path), "NEWSAGG_DATABASE_URL": url,
           "NEWSAGG_CONFIG": str(tmp_path / "none.toml"), "NEWSAGG_API__WORKERS": "1"}  # the RSS of one server
    proc = subprocess.Popen([sys.executable, "-m", "newsagg.app.cli", "api", "--host", "127.0.0.1", "--port", "0"],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    match = re.search(r"http://127\.0\.0\.1:\d+/", proc.stdout.readline())
    assert match, "the API did not print its URL"
    return proc, match.group(0)


def _wait_opened(base: str) -> None:
    """Until the store and the model are loaded (no index here: /readyz then names the missing snapshot)."""
    deadline = time.monotonic() + 300
    while "no index snapshot" not in httpx.get(base + "readyz", timeout=30).text:
        assert time.monotonic() < deadline, "the API never finished opening"
        time.sleep(0.2)


class PeakRss:
    """Samples a process's RSS every 10 ms in a thread; `peak` is the highest seen."""

    def __init__(self, pid: int):
        self.process, self.peak, self._stop = psutil.Process(pid), 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.01)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def test_parallel_listings_with_a_rare_tag_keep_the_api_memory_bounded(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(url)
    fill_heavy_store(store, ROWS)
    store.close()
    proc, base = _serve(tmp_path, url)
    paths = ["articles?tag=zzz&limit=100", "feed.atom?tag=zzz&limit=100", "articles?limit=100",
             "articles?tag=ev&limit=100"]
    try:
        _wait_opened(base)
        with httpx.Client(timeout=120) as warm:  # code paths, pools and caches warm before the baseline
            for path in paths:
                assert warm.get(base + path).status_code == 200
        baseline = psutil.Process(proc.pid).memory_info().rss
        with PeakRss(proc.pid) as rss, ThreadPoolExecutor(20) as pool:
            for path in paths:
                statuses = list(pool.map(lambda _: httpx.get(base + path, timeout=120).status_code, range(20)))
                assert statuses == [200] * 20, (path, statuses)
        ev = httpx.get(base + "articles?tag=ev&limit=100", timeout=60).json()["items"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert len(ev) == 100 and all("ev" in a["tags"] for a in ev)  # the filter still finds what it should
    growth_mb = (rss.peak - baseline) / 2**20
    assert growth_mb < GROWTH_LIMIT_MB, f"RSS grew by {growth_mb:.0f} MB under 20 parallel listings"
