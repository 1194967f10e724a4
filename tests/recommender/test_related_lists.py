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


def add_demo_articles(store: Store, limit: int) -> list[int]:
    ids = []
    for a in [a for a in load_articles() if a.on_topic][:limit]:
        body = "\n\n".join(a.body)
        ids.append(store.add_article(Article(
            url=f"https://{a.outlet}.example/{a.slug}", source_id=store.ensure_source(a.outlet), title=a.title,
            published_at=a.published.astimezone(timezone.utc), body=body, tags=list(a.keywords)[:5],
            content_hash=hashlib.sha256(body.encode()).hexdigest())))
    return ids


def listed(items) -> list[tuple[int, float]]:
    return [(i.article_id, i.score) for i in items]


def test_materialized_lists_equal_the_live_ranking_and_take_in_new_arrivals(store, embedder, tmp_path):
    ids = add_demo_articles(store, 24)
    service = RelatedService(store, make_settings(tmp_path), embedder=embedder)
    stats = service.update_index()
    assert stats.lists_written == len(ids) == service.lists.count()
    for aid in random.Random(1).sample(ids, 10):
        assert listed(service.related(aid, limit=10)) == listed(service.related(aid, limit=10, materialized=False))
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


def test_lookup_by_known_url_reads_the_materialized_list(store, embedder, tmp_path):
    ids = add_demo_articles(store, 12)
    service = RelatedService(store, make_settings(tmp_path), embedder=embedder)
    service.update_index()
    url = store.get_article(ids[3]).url
    with store.engine.begin() as conn:  # a list naming another article proves which path answered
        conn.execute(delete(RelatedListRow).where(RelatedListRow.article_id == ids[3]))
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
import sys
from newsagg.config import Settings
from newsagg.store import Store
from recommender.service import RelatedService
RelatedService(Store(sys.argv[1]), Settings()).update_index()
"""


def test_kill_during_update_leaves_lists_consistent_with_the_index(tmp_path, monkeypatch, embedder):
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("NEWSAGG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NEWSAGG_CONFIG", str(tmp_path / "none.toml"))
    store = Store(db)
    add_demo_articles(store, 30)
    for attempt in range(2):
        victim = subprocess.Popen([sys.executable, "-c", UPDATE, db], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 8.0))
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        with store.session() as s:  # deleted meanwhile: lists naming them must not serve them
            gone = list(s.scalars(select(Article.id).order_by(Article.id.desc()).limit(2)))
            s.execute(delete(Article).where(Article.id.in_(gone)))
        assert_served_lists_in_index(tmp_path, db, seed, embedder)
    from newsagg.config import Settings

    service = RelatedService(Store(db), Settings(), embedder=embedder)
    service.update_index()  # the catch-up
    assert_served_lists_in_index(tmp_path, db, seed, embedder)
    with store.session() as s:
        stored = set(s.scalars(select(Article.id)))
        listed_ids = set(s.scalars(select(RelatedListRow.article_id)))
    assert listed_ids <= stored and service.lists.count() == len(listed_ids), f"seed {seed}"
    store.close()


def assert_served_lists_in_index(tmp_path, db: str, seed: int, embedder) -> None:
    from newsagg.config import Settings

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
    for aid, blob in blobs.items():
        unpack(blob)  # whole records: never a torn list
        if aid in indexed and aid in stored:
            served = {i.article_id for i in service.related(aid, limit=20)}
            assert served <= indexed & stored, f"seed {seed}: list of {aid} serves {served - indexed - stored}"
    store.close()
