"""The catalog saved beside the index snapshots: mapped back instead of re-derived from the store, shared by the
processes on one snapshot directory, and never trusted beyond what the index says is live."""

from __future__ import annotations

import logging
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
    assert list(loaded.meta) == list(catalog.meta) and loaded.alive_ids() == set(range(1, 41)) - {7}
    assert loaded.row(7) is None and loaded.row(8) == 7 and loaded.row(41) is None
    assert np.array_equal(loaded.dense, catalog.dense) and np.array_equal(loaded.days, catalog.days)
    assert all(isinstance(part, np.memmap) for part in loaded.dense._parts)  # mapped, not read into memory
    assert (loaded.words.matrix() != catalog.words.matrix()).nnz == 0  # same IDF: removed rows not counted
    assert (loaded.ents.matrix() != catalog.ents.matrix()).nnz == 0
    # Only the kept snapshots' manifests, and only the segments they name, stay on disk.
    kept = sorted(p.name for p in files.dir.glob("catalog-*.json"))
    assert kept == ["catalog-00000039.json", "catalog-00000040.json"]
    named = {s["file"] for v in (39, 40) for s in files._manifest(v)["segments"]}
    assert {p.name for p in files.dir.glob("seg-*")} == named


def test_the_writer_serves_its_saved_rows_mapped_and_keeps_only_newer_rows_in_memory(tmp_path):
    files = CatalogFiles(tmp_path, keep=2)
    catalog = Catalog(RelatedSettings(), 8)
    catalog.add([article(i) for i in range(1, 6)], {i: unit(i) for i in range(1, 6)})
    before = catalog.features_of_rows([0, 3])
    files.save(catalog, 1, "m")
    catalog.add([article(6)], {6: unit(6)})
    mapped = [isinstance(part, np.memmap) for part in catalog.dense._parts]
    assert mapped == [True, False]  # rows 0-4 from the segment, the new row in memory until the next save
    after = catalog.features_of_rows([0, 3])
    assert np.array_equal(before.dense, after.dense) and (before.words != after.words).nnz == 0
    assert catalog.meta[5].article_id == 6 and catalog.meta[2] == catalog.meta[2] and catalog.row(6) == 5


@pytest.mark.parametrize("damage", ["truncate", "missing", "garbage", "wrong_rows"])
def test_other_model_or_damaged_files_are_not_used(tmp_path, caplog, damage):
    files = CatalogFiles(tmp_path, keep=2)
    catalog = Catalog(RelatedSettings(), 8)
    catalog.add([article(1), article(2)], {1: unit(1), 2: unit(2)})
    files.save(catalog, 1, "m")
    assert files.load(1, "other-model", {1, 2}, RelatedSettings()) is None
    assert files.load(1, "m", {1, 2}, RelatedSettings()) is not None
    seg = next(files.dir.glob("seg-*"))
    if damage == "truncate":
        data = (seg / "dense.npy").read_bytes()
        (seg / "dense.npy").write_bytes(data[: len(data) - 8])
    elif damage == "missing":
        (seg / "words_indptr.npy").unlink()
    elif damage == "garbage":
        (seg / "meta_offsets.npy").write_bytes(b"not an array")
    else:  # a well-formed array of the wrong length
        np.save(seg / "days.npy", np.zeros(3))
    with caplog.at_level(logging.WARNING, logger="recommender.catalog_files"):
        assert files.load(1, "m", {1, 2}, RelatedSettings()) is None
    assert "deriving the catalog from the store" in caplog.text


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
    # The mapped catalog ranks exactly like one derived from the store (same rows, scores and reasons).
    unsaved = settings.model_copy(update={"index": settings.index.model_copy(update={"save_catalog": False})})
    from_store = RelatedService(sqlite_store, unsaved, embedder=embedder)
    from_store._ensure()
    assert sorted(derived) == sorted(ids)
    for i in ids:
        assert reader.related(i, materialized=False) == from_store.related(i, materialized=False)
    derived.clear()
    # Damaged files: the service still starts, from the store.
    for seg in (tmp_path / "index" / "catalog").glob("seg-*"):
        (seg / "dense.npy").write_bytes(b"")
    again = RelatedService(sqlite_store, settings, embedder=embedder)
    assert again._ensure()[0].alive_ids() == set(ids) and sorted(derived) == sorted(ids)


@pytest.mark.slow
def test_two_services_share_one_snapshot_directory(sqlite_store, embedder, tmp_path):
    settings = make_settings(tmp_path, per_source_cap=0)
    settings.index.save_catalog = True
    writer = RelatedService(sqlite_store, settings, embedder=embedder)
    first = [add_article(sqlite_store, f"Rivian R2 deliveries, part {i}", f"Rivian began R2 deliveries, {i}.",
                         source=f"site-{i}", hours=i) for i in range(3)]
    writer.update_index()
    a, b = (RelatedService(sqlite_store, settings, embedder=embedder) for _ in range(2))
    assert a.related(first[0]) == b.related(first[0]) == writer.related(first[0])
    files = {p.resolve() for s in (a, b) for p in _mapped_segment_files(s)}
    assert files and all(p.parent.parent == (tmp_path / "index" / "catalog").resolve() for p in files)
    late = add_article(sqlite_store, "Rivian R2 deliveries widen", "Rivian widened R2 deliveries.", source="site-7",
                       hours=4)
    writer.update_index()  # writes a segment, may merge and prune the ones a and b map
    for s in (a, b):
        assert s.refresh(min_interval=0.0) and s._catalog.row(late) is not None
        assert s.related(late) == writer.related(late)


def _mapped_segment_files(service: RelatedService) -> list:
    from pathlib import Path

    return [Path(part.filename) for part in service._catalog.dense._parts if isinstance(part, np.memmap)]


def test_row_lookup_past_the_dict_of_recent_ids_uses_the_sorted_ids(monkeypatch):
    import recommender.catalog as catalog_module

    monkeypatch.setattr(catalog_module, "TAIL_POSITIONS", 3)
    catalog = Catalog(RelatedSettings(), 8)
    ids = [9, 2, 14, 5, 11, 3, 20]  # not in id order: rows are in arrival order
    for i in ids:
        catalog.add([article(i)], {i: unit(i)})
    catalog.remove([5])
    assert [catalog.row(i) for i in ids] == [0, 1, 2, None, 4, 5, 6]
    assert catalog.row(4) is None and catalog.row(21) is None and catalog.row(0) is None
    assert catalog.add([article(14)], {14: unit(14)}) == [] and catalog.add([article(5)], {5: unit(5)}) == []
    assert catalog.meta[catalog.row(11)].article_id == 11 and catalog.max_id == 20
