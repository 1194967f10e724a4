"""The catalog saved beside the index snapshots: read back instead of re-derived from the store, and never trusted
beyond what the index says is live."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import delete

from newsagg.config import RelatedSettings
from newsagg.models import Article
from recommender.catalog import Catalog
from recommender.catalog_files import CatalogFiles
from recommender.service import RelatedService
from tests.recommender.recommender_helpers import add_article, make_settings

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def article(i: int) -> Article:
    return Article(id=i, url=f"https://x.example/{i}", title=f"Xiaomi SU7 story {i}", body=f"Xiaomi said {i} cars.",
                   tags=["ev"], published_at=T0 + timedelta(hours=i), fetched_at=T0 + timedelta(hours=i + 1),
                   near_dup_group=i)


def unit(i: int, dim: int = 8) -> np.ndarray:
    v = np.random.default_rng(i).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def test_many_small_updates_keep_few_segments_and_read_back_the_same_rows(tmp_path):
    files = CatalogFiles(tmp_path, keep=2)
    catalog = Catalog(RelatedSettings(), 8)
    for version in range(1, 41):
        catalog.add([article(version)], {version: unit(version)})
        files.save(catalog, version, "m")
    assert len(catalog.saved_segments) <= 6  # binary-counter merging: O(log n)
    catalog.remove([7])
    loaded = files.load(40, "m", catalog.alive_ids(), RelatedSettings())
    assert [m.article_id for m in loaded.meta] == list(range(1, 41))
    assert loaded.meta == catalog.meta and loaded.alive_ids() == set(range(1, 41)) - {7}
    assert np.array_equal(loaded.dense, catalog.dense) and np.array_equal(loaded.days, catalog.days)
    assert (loaded.words.matrix() != catalog.words.matrix()).nnz == 0  # same IDF: removed rows not counted
    assert (loaded.ents.matrix() != catalog.ents.matrix()).nnz == 0
    # Only the kept snapshots' manifests, and only the segments they name, stay on disk.
    kept = sorted(p.name for p in files.dir.glob("catalog-*.json"))
    assert kept == ["catalog-00000039.json", "catalog-00000040.json"]
    named = {s["file"] for v in (39, 40) for s in files._manifest(v)["segments"]}
    assert {p.name for p in files.dir.glob("seg-*.npz")} == named


def test_other_model_or_damaged_files_are_not_used(tmp_path):
    files = CatalogFiles(tmp_path, keep=2)
    catalog = Catalog(RelatedSettings(), 8)
    catalog.add([article(1), article(2)], {1: unit(1), 2: unit(2)})
    files.save(catalog, 1, "m")
    assert files.load(1, "other-model", {1, 2}, RelatedSettings()) is None
    next(files.dir.glob("seg-*.npz")).write_bytes(b"not a zip")
    assert files.load(1, "m", {1, 2}, RelatedSettings()) is None


@pytest.mark.slow
def test_a_starting_service_reads_the_saved_catalog_not_the_store(sqlite_store, embedder, tmp_path, monkeypatch):
    settings = make_settings(tmp_path, per_source_cap=0)
    settings.index.save_catalog = True
    writer = RelatedService(sqlite_store, settings, embedder=embedder)
    ids = [add_article(sqlite_store, f"Tesla recalls Model S, report {i}", f"Tesla recall of Model S cars, {i}.",
                       source=f"site-{i}", hours=i) for i in range(4)]
    writer.update_index()
    ids.append(add_article(sqlite_store, "Tesla Model S recall widens", "More Model S cars in Tesla's recall.",
                           source="site-9", hours=5))
    gone = add_article(sqlite_store, "Apple M4 MacBook Pro unveiled", "Apple showed the M4 MacBook Pro.", hours=6)
    writer.update_index()
    with sqlite_store.session() as s:
        s.execute(delete(Article).where(Article.id == gone))
    writer.update_index()

    derived = []
    real = RelatedService._fill_catalog
    monkeypatch.setattr(RelatedService, "_fill_catalog",
                        lambda self, catalog, chunk, index: (derived.extend(chunk), real(self, catalog, chunk, index)))
    reader = RelatedService(sqlite_store, settings, embedder=embedder)
    assert reader.index_info()["count"] == len(ids) and derived == []  # nothing derived from the store
    assert reader._catalog.alive_ids() == set(ids)
    for i in ids:
        assert [r.article_id for r in reader.related(i)] == [r.article_id for r in writer.related(i)]
    # Damaged files: the service still starts, from the store.
    for seg in (tmp_path / "index" / "catalog").glob("seg-*.npz"):
        seg.write_bytes(b"")
    again = RelatedService(sqlite_store, settings, embedder=embedder)
    assert again._ensure()[0].alive_ids() == set(ids) and sorted(derived) == sorted(ids)
