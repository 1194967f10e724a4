"""newsagg.app.ingest.index_while: index in passes while a crawl stores, then everything it stored."""

from __future__ import annotations

import os
import threading
import time

import pytest

from newsagg.app.ingest import index_while, pid_alive
from recommender.service import RelatedService

from tests.recommender.recommender_helpers import add_article, make_settings

pytestmark = pytest.mark.slow

TOPICS = ["Tesla recalls Model Y over steering", "BYD opens a plant in Hungary", "Apple ships the M4 MacBook",
          "Nvidia earnings beat estimates", "VW cuts jobs at Zwickau", "Rivian delays the R2 launch"]


def test_index_while_indexes_what_a_running_crawl_stores_on_its_thread_count(store, embedder, tmp_path):  # noqa: F811
    service = RelatedService(store, make_settings(tmp_path), embedder=embedder)
    first = [add_article(store, t, f"{t}. More on it below, with figures.", source=f"s{i}", hours=i)
             for i, t in enumerate(TOPICS[:2])]
    stored_late: list[int] = []
    threads_seen: list[int] = []
    done = threading.Event()

    def crawl():  # stores in two bursts while "running", the second only after the indexer's first pass
        time.sleep(0.5)
        for i, t in enumerate(TOPICS[2:], start=2):
            stored_late.append(add_article(store, t, f"{t}. More on it below.", source=f"s{i}", hours=i))
            threads_seen.append(embedder._threads)
            time.sleep(0.3)
        done.set()

    crawler = threading.Thread(target=crawl)
    crawler.start()
    stats = index_while(service, lambda: not done.is_set(), threads=1, poll_seconds=0.1)
    crawler.join()
    assert stats.total == len(TOPICS) and stats.added == len(TOPICS) and stats.passes >= 2
    assert service.index_info()["count"] == len(TOPICS)
    assert all(service.related(a) is not None for a in first + stored_late)
    assert set(threads_seen) == {1}  # one embedding thread while the crawl ran
    assert embedder._threads == embedder.settings.threads  # restored afterwards


def test_pid_alive():
    assert pid_alive(os.getpid())
    assert not pid_alive(2**22 + 12345)  # above Linux's pid_max
