"""RelatedService end to end on a real store (SQLite, and PostgreSQL when configured) with the real model."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from newsagg.models import Article
from recommender.index import load_latest
from recommender.service import RelatedService

from tests.recommender.recommender_helpers import add_article, make_settings

pytestmark = pytest.mark.slow

EV_A = [
    ("Tesla recalls 120,000 Model S cars over seat belt bolts",
     "Tesla is recalling 120,000 Model S sedans after finding faulty seat belt bolts in Fremont, the NHTSA said."),
    ("NHTSA: Tesla Model S seat belt recall covers 120,000 vehicles",
     "The Model S recall announced by Tesla and the NHTSA affects 120,000 cars built in Fremont with seat belt bolts."),
    ("Tesla to fix seat belts in 120,000 Model S sedans",
     "Owners of 120,000 Tesla Model S sedans will get their seat belt bolts fixed, the NHTSA recall notice says."),
]
EV_B = [
    ("Apple unveils M4 MacBook Pro with faster neural engine",
     "Apple announced the M4 MacBook Pro in Cupertino on Tuesday, with a faster neural engine and longer battery."),
    ("M4 MacBook Pro: Apple's new laptop arrives in Cupertino event",
     "At its Cupertino event Apple showed the M4 MacBook Pro, claiming its neural engine is twice as fast."),
    ("Apple's M4 MacBook Pro brings neural engine upgrade",
     "The M4 chip in Apple's new MacBook Pro has a faster neural engine, Apple said in Cupertino."),
]


@pytest.fixture
def service(store, embedder, tmp_path):
    return RelatedService(store, make_settings(tmp_path, per_source_cap=0), embedder=embedder)


def fill(store, events=(EV_A, EV_B)):
    ids = []
    for e, event in enumerate(events):
        for i, (title, body) in enumerate(event):
            ids.append(add_article(store, title, body, source=f"site-{i}", hours=e * 24 + i))
    return ids


def test_related_finds_same_event_and_reloads_from_snapshot(service, store, embedder, tmp_path):
    ids = fill(store)
    stats = service.update_index()
    assert (stats.added, stats.embedded, stats.total, stats.version) == (6, 6, 6, 1)
    related = service.related(ids[0])
    assert {r.article_id for r in related} == set(ids[1:3])  # the same event's two other reports, nothing else
    assert all(0 < r.score <= 1 for r in related) and related[0].score >= related[-1].score
    assert "Tesla" in related[0].reason or "Model S" in related[0].reason
    # A second process loads the published snapshot: same ids, count and model as the store.
    other = RelatedService(store, make_settings(tmp_path, per_source_cap=0), embedder=embedder)
    info = other.index_info()
    assert info["count"] == store.count_articles() == 6 and info["model"] == "all-MiniLM-L6-v2@onnx-int8"
    assert load_latest(other.snapshot_dir, other.settings.index).ids() == set(ids)
    assert [r.article_id for r in other.related(ids[0])] == [r.article_id for r in related]


def test_incremental_update_embeds_only_new_and_drops_deleted(service, store):
    ids = fill(store)
    service.update_index()
    new = add_article(store, "Tesla Model S recall: 120,000 seat belt bolts checked",
                      "Tesla began checking seat belt bolts on 120,000 Model S cars under the NHTSA recall.")
    stats = service.update_index()
    assert (stats.added, stats.embedded, stats.removed, stats.total, stats.version) == (1, 1, 0, 7, 2)
    assert new in {r.article_id for r in service.related(ids[0])}
    with store.session() as s:
        s.execute(delete(Article).where(Article.id == new))
    stats = service.update_index()
    assert (stats.added, stats.removed, stats.total) == (0, 1, 6)
    assert new not in {r.article_id for r in service.related(ids[0])}
    # A rebuild reuses every stored vector.
    stats = service.rebuild()
    assert (stats.added, stats.embedded, stats.reused) == (6, 0, 6)


def test_unrelated_text_gets_nothing(service, store):
    fill(store)
    service.update_index()
    assert service.related(title="Grandma's apple pie recipe", body="Mix flour, butter and sugar; bake an hour.") == []


def test_near_duplicates_collapse_into_also_in(service, store):
    ids = fill(store)
    title, body = EV_A[0]
    copy = add_article(store, title, body, source="syndicator", url="https://syndicator.example/tesla",
                       group=ids[0])
    lookalike = add_article(store, EV_A[1][0], EV_A[1][1] + " (AP)", source="wire", group=ids[1])
    service.update_index()
    related = service.related(ids[2])
    shown = [r.article_id for r in related]
    assert copy not in shown and lookalike not in shown  # copies are never separate items
    by_id = {r.article_id: r for r in related}
    assert [a.article_id for a in by_id[ids[0]].also_in] == [copy]
    assert by_id[ids[0]].also_in[0].source == "syndicator"
    assert [a.article_id for a in by_id[ids[1]].also_in] == [lookalike]
    # The query's own copies are not related to it either.
    assert copy not in [r.article_id for r in service.related(ids[0])]


def test_per_source_cap(store, embedder, tmp_path):
    for i, (title, body) in enumerate(EV_A * 2):
        add_article(store, f"{title} ({i})", body, source="same-site")
    add_article(store, EV_A[0][0] + " - other", EV_A[0][1], source="other-site")
    svc = RelatedService(store, make_settings(tmp_path, per_source_cap=2), embedder=embedder)
    svc.update_index()
    related = svc.related(1)
    sources = [r.source for r in related]
    assert sources.count("same-site") == 2 and "other-site" in sources


def test_lookup_by_url_canonicalises(service, store):
    ids = fill(store)
    service.update_index()
    url = store.get_article(ids[0]).url
    assert [r.article_id for r in service.related(url=url + "?utm_source=x&utm_medium=y#top")] == [
        r.article_id for r in service.related(ids[0])
    ]
    with pytest.raises(KeyError):
        service.related(url="https://nowhere.example/x")


def test_stories_are_assigned_incrementally_with_stable_ids(service, store):
    ids = fill(store)
    service.update_index()
    sa, sb = service.story(ids[0]), service.story(ids[3])
    assert sa.story_id != sb.story_id and sa.size == 3 and sb.size == 3
    assert {a.article_id for a in sa.articles} == set(ids[:3]) and sa.label in [t for t, _ in EV_A]
    late = add_article(store, "Tesla Model S recall widens: 120,000 seat belt bolts",
                       "The NHTSA said Tesla's Model S seat belt bolt recall covers 120,000 cars from Fremont.",
                       hours=30)
    service.update_index()
    after = service.story(late)
    assert after.story_id == sa.story_id and after.size == 4
    assert service.story(ids[3]).story_id == sb.story_id
    listed = service.stories(min_size=2)
    assert {s.story_id for s in listed} == {sa.story_id, sb.story_id}
    assert after.first_seen <= after.last_seen


def test_search_modes(service, store):
    ids = fill(store)
    service.update_index()
    for mode in ("keyword", "semantic", "hybrid"):
        hits = service.search("seat belt recall", mode=mode, limit=3)
        assert hits and hits[0].article_id in ids[:3], mode
    assert service.search("zzzz qqqq", mode="keyword") == []
    with pytest.raises(ValueError):
        service.search("x", mode="psychic")
