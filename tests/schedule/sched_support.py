"""Helpers of the scheduler and crash-safety tests (`from tests.schedule.sched_support import …`)."""

from __future__ import annotations

import time

import psutil
import pytest

from newsagg.demo import local_crawl_env
from newsagg.demo.server import DemoSites

EXPECTED = ("stored", "paywalled", "syndicated")


def crawl_env(database_url: str, **extra: str) -> dict[str, str]:
    """Environment of a `newsagg` child process crawling the local demo sites into database_url."""
    return local_crawl_env(**{"NEWSAGG_DATABASE_URL": database_url, "NEWSAGG_CRAWL__RETRY_TIMES": "1", **extra})


def expected_urls(sites: DemoSites) -> set[str]:
    """Article URLs a correct crawl of the demo sites stores (each exactly once)."""
    return {e["url"] for e in sites.ground_truth() if e["expect"] in EXPECTED}


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll until predicate() is truthy and return its value; fail the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def running(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie (dead, not yet reaped)."""
    try:
        return psutil.Process(pid).status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.NoSuchProcess:
        return False
