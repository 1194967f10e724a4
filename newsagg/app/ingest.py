"""Index while a crawl stores: embed what has arrived in batches, on few threads, so the crawl keeps its cores.

Used by `newsagg index --follow-pid PID` (which `newsagg schedule` starts beside each crawl when
schedule.index_while_crawling is on) and by benchmarks/ingest.py. The service's own update_index does the work;
this module only decides when to call it and with how many embedding threads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FollowStats:
    passes: int
    added: int
    total: int
    seconds: float
    lists_written: int = 0  # materialized lists written over all passes: new articles' own, and older ones entered


def pid_alive(pid: int) -> bool:
    """Whether process `pid` still runs."""
    return psutil.pid_exists(pid)


def index_while(service, crawl_running: Callable[[], bool], threads: int, poll_seconds: float = 1.0) -> FollowStats:
    """update_index() in passes while `crawl_running()`, embedding with `threads` threads; then one last pass with
    the configured thread count, so everything the crawl stored is indexed when this returns."""
    t0, passes, added, lists = time.perf_counter(), 0, 0, 0
    with service.embedder.threads(threads):
        while crawl_running():
            stats = service.update_index()
            passes, added, lists = passes + 1, added + stats.added, lists + stats.lists_written
            if stats.added == 0:
                time.sleep(poll_seconds)  # nothing new yet: do not spin on the store
    stats = service.update_index()
    passes, added, lists = passes + 1, added + stats.added, lists + stats.lists_written
    log.info("indexed %d article(s) in %d pass(es) beside the crawl", added, passes)
    return FollowStats(passes, added, stats.total, time.perf_counter() - t0, lists)
