"""Materialized related lists: equal to the live ranking when computed, maintained on arrival, consistent with the
index after a SIGKILL mid-update; and the word index behind lexical candidates and keyword search."""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
import sys
import time
from datetime import timezone

import pytest
from sqlalchemy import delete, select

from newsagg.demo.content import load_articles
from newsagg.models import Article, RelatedListRow
from newsagg.store import Store
from recommender.index import load_latest
from recommender.related_lists import unpack
from recommender.service import RelatedService

from tests.recommender.recommender_helpers import add_article, make_settings

pytestmark = pytest.mark.slow


def add_demo_articles(store: Store, which: int | list) -> list[int]:
    """The first `which` on-topic demo articles (or these demo articles), stored; their ids."""
    ids = []
    for a in [a for a in load_articles() if a.on_topic][:which] if isinstance(which, int) else which:
        body = "\n\n".join(a.body)
        ids.append(store.add_article(Article(
            url=f"https://{a.outlet}.example/{a.slug}", source_id=store.ensure_source(a.outlet), title=a.title,
            published_at=a.published.astimezone(timezone.utc), body=body, tags=list(a.keywords)[:5],
            content_hash=hashlib.sha256(body.encode()).hexdigest())))
    return ids


def listed(items) -> list[tuple[int, float]]:
    return [(i.article_id, i.score) for i in items]


def assert_stored_is_the_live_ranking(service: RelatedService, article_ids) -> None:
    """The whole stored list (every kept candidate, not only the presented prefix) is what ranking the article
    live against the current index gives: same ids in the same order, same scores."""
    catalog, index = service._ensure()
    length = service.settings.related.materialized_length
    for aid in article_ids:
        live = service.ranker.rank_row(catalog, index, service.words, catalog.row(aid))[:length]
        stored = service.lists.get(aid).entries
        assert stored["article_id"].tolist() == [catalog.meta[x.row].article_id for x in live], aid
        assert stored["score"].tolist() == pytest.approx([x.score for x in live], abs=1e-6), aid
        assert stored["direct"].tolist() == pytest.approx([x.direct for x in live], abs=1e-6), aid


def test_materialized_lists_equal_the_live_ranking_and_take_in_new_arrivals(store, embedder, tmp_path):
    ids = add_demo_articles(store, 24)
    service = RelatedService(store, make_settings(tmp_path), embedder=embedder)
    stats = service.update_index()
    assert stats.lists_written == len(ids) == service.lists.count()
    sample = random.Random(1).sample(ids, 10)
    for aid in sample:
        assert listed(service.related(aid, limit=10)) == listed(service.related(aid, limit=10, materialized=False))
    assert_stored_is_the_live_ranking(service, sample)
    # A new article about the event of ids[0]: the lists it belongs in are recomputed in the same update.
    first = store.get_article(ids[0])
    new_id = add_article(store, first.title + " (update)", first.body, source="late-wire",
                         hours=None)
    stats = service.update_index()
    assert stats.lists_written > 1  # its own list and at least one older list it entered
    entered = [aid for aid in ids if new_id in [i.article_id for i in service.related(aid, limit=10)]]
    assert entered, "the new article entered no older article's list"
    for aid in entered + [new_id]:
        assert listed(service.related(aid, limit=10)) == listed(service.related(aid, limit=10, materialized=False))
    assert_stored_is_the_live_ranking(service, entered + [new_id])


def test_lookup_by_known_url_reads_the_materialized_list(store, embedder, tmp_path):
    ids = add_demo_articles(store, 12)
    service = RelatedService(store, make_settings(tmp_path), embedder=embedder)
    service.update_index()
    url = store.get_article(ids[3]).url
    # the API's inline read (no ranking): the materialized answer itself, or None when there is no list
    assert service.stored_related(ids[3], limit=10) == service.related(ids[3], limit=10)
    assert listed(service.stored_related(ids[3], limit=10)) == listed(service.related(ids[3], limit=10,
                                                                                      materialized=False))
    with store.engine.begin() as conn:  # a list naming another article proves which path answered
        conn.execute(delete(RelatedListRow).where(RelatedListRow.article_id == ids[3]))
    assert service.stored_related(ids[3]) is None and service.stored_related(10**9) is None
    assert service.related(url=url) == service.related(ids[3], materialized=False)
    service.update_index()  # nothing new: the list stays missing, the live path keeps answering
    assert [i.article_id for i in service.related(url=url)] == [i.article_id for i in service.related(ids[3])]


def test_keyword_search_uses_the_word_index_and_takes_syntax_as_text(store, embedder, tmp_path):
    ids = add_demo_articles(store, 12)
    service = RelatedService(store, make_settings(tmp_path), embedder=embedder)
    service.update_index()
    title = store.get_article(ids[5]).title
    hits = service.search(title, mode="keyword", limit=3)
    assert hits and hits[0].article_id == ids[5]
    for query in ['%', '"unclosed', 'title:(', '* AND OR NOT', '\\', "a_b%c*", "robotaxi*"]:
        service.search(query, mode="keyword")  # no wildcard, no parse error: plain words or nothing
    assert service.search("%", mode="keyword") == [] and service.keyword_ids("%", 10) == []
    assert ids[5] in service.keyword_ids(title, 10)  # what /articles?q= pages through
    assert [h.article_id for h in service.search("robotaxi*", mode="keyword")] == \
        [h.article_id for h in service.search("robotaxi", mode="keyword")]


UPDATE = """
import sys, time
from newsagg.config import Settings
from newsagg.store import Store
from recommender.service import RelatedService
service = RelatedService(Store(sys.argv[1]), Settings())
service.index_info()  # the published snapshot is loaded: from here on, the update itself
print("updating", flush=True)
t0 = time.perf_counter()
service.update_index()
print(f"done {time.perf_counter() - t0:.3f}", flush=True)
"""


def run_update(db: str, kill_after: float | None) -> float | None:
    """`update_index` in a real subprocess, SIGKILLed `kill_after` seconds into it (None: let it finish); the
    seconds it took when it finished, None when the kill landed first."""
    child = subprocess.Popen([sys.executable, "-c", UPDATE, db], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    try:
        assert child.stdout.readline().strip() == "updating", "the update subprocess did not start"
        if kill_after is not None:
            time.sleep(kill_after)
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=600)
        finished = child.stdout.read().split()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return float(finished[1]) if finished[:1] == ["done"] else None


def test_kill_during_update_leaves_lists_consistent_with_the_index(database_url, tmp_path, monkeypatch, embedder):
    """New articles arrive in batches (mixed events, so they enter older lists too); `update_index` runs in a
    subprocess killed with SIGKILL at a random point of it; articles are deleted meanwhile. After every kill, no
    served list (in-process or over HTTP) names an article outside the published index. A deletion takes effect
    at the next completed update (until then the snapshot's catalog still holds the article): after the catch-up
    nothing served is deleted, and every stored article has exactly one list, whose entries are all indexed (or
    deleted since: dropped on read)."""
    from newsagg.config import Settings

    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    monkeypatch.setenv("NEWSAGG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NEWSAGG_CONFIG", str(tmp_path / "none.toml"))
    store = Store(database_url)
    demo = [a for a in load_articles() if a.on_topic]
    rng.shuffle(demo)
    add_demo_articles(store, demo[:24])
    took = run_update(database_url, None)  # a first snapshot with lists, and how long an update takes here
    assert took is not None
    deleted: set[int] = set()
    killed = attempts = 0
    while killed < 2 and attempts < 6:
        batch = demo[24 + 12 * attempts : 36 + 12 * attempts]
        attempts += 1
        add_demo_articles(store, batch)
        killed += run_update(database_url, rng.uniform(0.0, took)) is None
        assert_served_lists_in_index(tmp_path, database_url, embedder, seed, deleted)
        deleted |= delete_some(store, tmp_path, rng)
    assert killed, f"seed {seed}: all {attempts} updates finished before their kill"
    service = RelatedService(Store(database_url), Settings(), embedder=embedder)
    service.update_index()  # the catch-up
    assert_served_lists_in_index(tmp_path, database_url, embedder, seed, set())
    indexed = load_latest(tmp_path / "index", Settings().index).ids()
    with store.session() as s:
        stored = set(s.scalars(select(Article.id)))
        blobs = dict(s.execute(select(RelatedListRow.article_id, RelatedListRow.entries)).all())
    assert set(blobs) == indexed == stored, f"seed {seed}"
    for aid, blob in blobs.items():
        named = set(unpack(blob)["article_id"].tolist())
        assert named <= indexed | deleted, f"seed {seed}: list of {aid} names {named - indexed - deleted}"
    store.close()


def delete_some(store: Store, tmp_path, rng: random.Random) -> set[int]:
    """One article of the published index and one that is not in it (if any): deleted as a user might."""
    from newsagg.config import Settings

    latest = load_latest(tmp_path / "index", Settings().index)
    indexed = latest.ids() if latest is not None else set()
    with store.session() as s:
        stored = sorted(s.scalars(select(Article.id)))
        pick = [rng.choice(group) for group in ([a for a in stored if a in indexed],
                                                 [a for a in stored if a not in indexed]) if group]
        s.execute(delete(Article).where(Article.id.in_(pick)))
    return set(pick)


def assert_served_lists_in_index(tmp_path, db: str, embedder, seed: int, stale: set[int]) -> None:
    """Every stored list is whole records, and what is served for its article (RelatedService.related and
    GET /articles/{id}/related, results and their also_in) is in the published index and stored, but for `stale`
    (deleted since the last completed update); its copies are stored."""
    from fastapi.testclient import TestClient

    from newsagg.config import Settings
    from recommender.api import create_app

    settings = Settings()
    latest = load_latest(tmp_path / "index", settings.index)
    if latest is None:
        return
    store = Store(db)
    service = RelatedService(store, settings, embedder=embedder)
    indexed = latest.ids()
    with store.session() as s:
        stored = set(s.scalars(select(Article.id)))
        blobs = dict(s.execute(select(RelatedListRow.article_id, RelatedListRow.entries)).all())
    assert set(blobs) <= stored, f"seed {seed}: lists of deleted articles {set(blobs) - stored}"
    servable = indexed & (stored | stale)
    with TestClient(create_app(settings, service, wait_ready=True)) as client:
        for aid, blob in blobs.items():
            unpack(blob)  # whole records: never a torn list
            served = {i.article_id for i in service.related(aid, limit=20)}
            assert served <= servable, f"seed {seed}: list of {aid} serves {served - servable}"
            r = client.get(f"/articles/{aid}/related", params={"limit": 20})
            assert r.status_code == 200, (seed, aid, r.text)
            body = r.json()
            named = {i["article_id"] for i in body["items"]} | {c["article_id"] for i in body["items"]
                                                               for c in i["also_in"]}
            assert named <= servable, f"seed {seed}: GET of {aid} names {named - servable}"
            assert {c["article_id"] for c in body["copies"]} <= stored
    store.close()
