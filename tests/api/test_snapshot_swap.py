"""A snapshot swap under load: while clients keep asking a running server, `newsagg index` (here a second
RelatedService over the same store and snapshot directory, as another process would be) publishes a new
snapshot. The API switches to it by itself: no request fails, and the index version in the answers moves
from 1 to 2 (and never back)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import httpx
import pytest
import uvicorn

from tests.api.api_helpers import seed
from newsagg.store import Store
from recommender.api import create_app
from recommender.api.serve import base_url, bind
from recommender.index import VectorIndex
from recommender.service import RelatedService

pytestmark = pytest.mark.slow

SU7_ULTRA = {
    "key": "su7_ultra", "source": "autopulse", "url": "https://autopulse.example/xiaomi-su7-ultra-814900",
    "published": "2024-03-30T12:00:00+00:00", "tags": ["xiaomi", "ev"],
    "title": "Xiaomi SU7 orders top 88,898 as Lei Jun confirms April deliveries from Beijing",
    "body": "Lei Jun said Xiaomi SU7 orders passed 88,898 after the launch at 215,900 yuan, below the Tesla Model 3. "
            "Xiaomi SU7 deliveries start in April from the Beijing factory built with BAIC, and the SU7 Max offers "
            "800 kilometres of range. Xiaomi said HyperOS links the SU7 with Xiaomi phones.",
}


@contextmanager
def serving(app) -> Iterator[str]:
    """The app under a real uvicorn server in a thread; yields its base URL."""
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def test_published_snapshot_is_served_without_failing_a_request(service, sqlite_store, api_settings, embedder,
                                                                articles, fixture_rows):
    page = next(r["url"] for r in fixture_rows if r["key"] == "su7_voltwire")
    paths = [f"/articles/{articles['su7_voltwire']}/related", f"/related?url={quote(page)}",
             f"/widget/related?url={quote(page)}", "/search?q=xiaomi+su7+orders&mode=hybrid",
             f"/articles/{articles['byd_voltwire']}/related"]
    answers: list[tuple[int, float, str, int, str | None]] = []  # client, time, path, status, index version
    stop = threading.Event()

    def keep_asking(client_no: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            for i in range(client_no, 10**9):
                if stop.is_set():
                    return
                path = paths[i % len(paths)]
                r = http.get(path)
                answers.append((client_no, time.monotonic(), path, r.status_code, r.headers.get("x-index-version")))

    with serving(create_app(api_settings, service, wait_ready=True)) as url:
        clients = [threading.Thread(target=keep_asking, args=(n,)) for n in range(4)]
        for c in clients:
            c.start()
        time.sleep(0.5)
        new_id = seed(sqlite_store, [SU7_ULTRA])["su7_ultra"]
        stats = RelatedService(sqlite_store, api_settings, embedder=embedder).update_index()
        assert (stats.version, stats.added) == (2, 1)
        published = time.monotonic()
        deadline = published + 30
        while not all(any(p == path and v == "2" for _, t, p, _, v in answers if t > published) for path in paths):
            assert time.monotonic() < deadline, "the running API did not switch to the new snapshot"
            time.sleep(0.05)
        time.sleep(0.3)
        stop.set()
        for c in clients:
            c.join(timeout=60)
        after = httpx.get(url + paths[0].lstrip("/"), timeout=30).json()

    statuses = Counter(status for *_, status, _ in answers)
    assert set(statuses) == {200}, statuses  # nothing failed, before, during or after the swap
    assert any(t < published for _, t, *_ in answers) and any(t > published for _, t, *_ in answers)
    # Each client saw version 1, then 2, and for a given path never 1 again. (Across paths it can: a cached list
    # may be served once more from version 1, labelled so, while it is recomputed, and /search already says 2.)
    for n in range(4):
        for path in paths:
            seen = [v for c, _, p, _, v in answers if c == n and p == path]
            assert seen == sorted(seen), (path, seen)
        seen = [v for c, *_, v in answers if c == n]
        assert seen[0] == "1" and seen[-1] == "2", seen
    assert after["index_version"] == 2 and new_id in [i["article_id"] for i in after["items"]]


def test_requests_are_answered_from_the_old_snapshot_while_the_new_one_loads(client, sqlite_store, api_settings,
                                                                            embedder, articles, monkeypatch):
    loading = threading.Event()
    read_snapshot = VectorIndex.load.__func__

    def slow_read(cls, *args, **kwargs):  # every snapshot load reads one; make the API's take a while
        if threading.current_thread().name == "api-index-watcher":
            loading.set()
            time.sleep(3)
        return read_snapshot(cls, *args, **kwargs)

    monkeypatch.setattr(VectorIndex, "load", classmethod(slow_read))
    indexer_store = Store(sqlite_store.url)  # the indexer is another process: its own store handle
    seed(indexer_store, [SU7_ULTRA])
    RelatedService(indexer_store, api_settings, embedder=embedder).update_index()
    indexer_store.close()
    assert loading.wait(10), "the API did not start loading the new snapshot"
    t0 = time.monotonic()
    r = client.get("/search", params={"q": "xiaomi orders", "mode": "keyword"})
    assert r.status_code == 200 and r.headers["x-index-version"] == "1"
    assert time.monotonic() - t0 < 1.5, "a reader waited for the snapshot load"
    deadline = time.monotonic() + 30
    while client.get("/readyz").json()["index_version"] != 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_a_corrupt_snapshot_is_not_reread_every_interval_and_is_logged_once(service, api_settings, caplog,
                                                                            monkeypatch):
    import json
    import logging

    from recommender.api.loader import IndexLoader

    directory = service.snapshot_dir
    good_blob = (directory / "index-00000001.faiss").read_bytes()
    sidecar = json.loads((directory / "index-00000001.json").read_text())

    def publish(version: int, blob: bytes) -> None:
        (directory / f"index-{version:08d}.faiss").write_bytes(blob)
        (directory / f"index-{version:08d}.json").write_text(json.dumps({**sidecar, "version": version}))
        (directory / "CURRENT").write_text(f"{version}\n")

    loads = Counter()
    real_load = VectorIndex.load.__func__
    monkeypatch.setattr(VectorIndex, "load", classmethod(
        lambda cls, d, version, s: (loads.update([version]), real_load(cls, d, version, s))[1]))
    loader = IndexLoader(api_settings, service)  # refresh_interval 0.1 s in these settings
    publish(2, good_blob[:-1] + bytes([good_blob[-1] ^ 0xFF]))  # one flipped byte: the checksum does not match
    caplog.set_level(logging.ERROR, logger="recommender.api.loader")
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:  # the watcher's loop, much faster than its interval
        assert loader.check_for_snapshot() is False
        time.sleep(0.02)
    assert 1 <= loads[2] <= 6, loads  # backing off (0.1, 0.2, 0.4, 0.8 s …), not ~100 reads of a whole index
    assert len([r for r in caplog.records if "could not be loaded" in r.getMessage()]) == 1
    assert service.version == 1  # still serving the good one
    publish(3, good_blob)  # the next publish is tried at once
    assert loader.check_for_snapshot() is True and service.version == 3
