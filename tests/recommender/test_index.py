"""The FAISS index: ids, incremental add/remove, exact vs HNSW, atomic versioned snapshots."""

from __future__ import annotations

import numpy as np
import pytest

import recommender.index as index_mod
from newsagg.config import IndexSettings
from recommender.index import VectorIndex, load_latest, snapshot_version


def unit(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_search_returns_article_ids_and_honours_removal(kind):
    vecs = unit(200)
    ids = np.arange(1000, 1200)
    idx = VectorIndex.build("m", ids, vecs, IndexSettings(kind=kind, hnsw_storage="flat"))
    assert idx.kind == kind and len(idx) == 200
    assert idx.search(vecs[5], 1)[0][0].article_id == 1005
    assert idx.remove([1005, 999999]) == 1
    hits = idx.search(vecs[5], 10)[0]
    assert 1005 not in [h.article_id for h in hits] and len(hits) == 10
    idx.add(np.array([5000]), vecs[5:6])
    assert idx.search(vecs[5], 1)[0][0].article_id == 5000
    assert len(idx) == 200


def test_one_query_search_leaves_the_callers_thread_count_as_it_was():
    import faiss

    vecs = unit(300)
    idx = VectorIndex.build("m", np.arange(300), vecs, IndexSettings(kind="hnsw", hnsw_storage="flat"))
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    try:
        one = idx.search(vecs[7], 3)[0]  # searched with one thread, then the caller's count is put back
        assert faiss.omp_get_max_threads() == 2
        many = idx.search(vecs[:4], 3)
        assert one[0].article_id == 7 and [h[0].article_id for h in many] == [0, 1, 2, 3]
    finally:
        faiss.omp_set_num_threads(before)


def test_auto_kind_switches_at_threshold():
    s = IndexSettings(kind="auto", hnsw_threshold=100)
    assert VectorIndex.build("m", np.arange(50), unit(50), s).kind == "flat"
    assert VectorIndex.build("m", np.arange(150), unit(150), s).kind == "hnsw"


def test_snapshot_roundtrip_keeps_ids_model_and_version(tmp_path):
    s = IndexSettings(kind="flat")
    idx = VectorIndex.build("model-x", np.arange(1, 51), unit(50), s)
    assert snapshot_version(tmp_path) == 0 and load_latest(tmp_path, s) is None
    v1 = idx.save(tmp_path)
    idx.add(np.array([77]), unit(1, seed=3))
    v2 = idx.save(tmp_path)
    assert (v1, v2) == (1, 2) and snapshot_version(tmp_path) == 2
    loaded = load_latest(tmp_path, s)
    assert loaded.model == "model-x" and loaded.meta.version == 2
    assert loaded.ids() == set(range(1, 51)) | {77} and len(loaded) == 51
    assert loaded.search(unit(1, seed=3)[0], 1)[0][0].article_id == 77


def test_crash_during_write_leaves_previous_snapshot_readable(tmp_path, monkeypatch):
    s = IndexSettings(kind="flat")
    idx = VectorIndex.build("m", np.arange(1, 11), unit(10), s)
    idx.save(tmp_path)
    idx.add(np.array([99]), unit(1, seed=9))
    real = index_mod.atomic_write

    def crash_on_sidecar(path, data):
        if path.suffix == ".json":
            (path.parent / f".tmp-{path.name}.dead").write_bytes(data[: len(data) // 2])  # half-written temp
            raise OSError("disk full")
        real(path, data)

    monkeypatch.setattr(index_mod, "atomic_write", crash_on_sidecar)
    with pytest.raises(OSError):
        idx.save(tmp_path)
    monkeypatch.undo()
    # The reader sees version 1, whole, despite the orphaned index-2 file and temp file.
    assert snapshot_version(tmp_path) == 1
    old = load_latest(tmp_path, s)
    assert old.ids() == set(range(1, 11))
    # And the next successful write publishes past the debris.
    assert idx.save(tmp_path) == 3
    assert load_latest(tmp_path, s).ids() == set(range(1, 11)) | {99}


def test_corrupt_snapshot_is_refused(tmp_path):
    s = IndexSettings(kind="flat")
    VectorIndex.build("m", np.arange(1, 11), unit(10), s).save(tmp_path)
    f = tmp_path / "index-00000001.faiss"
    data = bytearray(f.read_bytes())
    data[-5] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupt"):
        load_latest(tmp_path, s)


def test_old_snapshots_are_pruned(tmp_path):
    s = IndexSettings(kind="flat", keep_snapshots=2)
    idx = VectorIndex.build("m", np.arange(1, 11), unit(10), s)
    for _ in range(4):
        idx.save(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("index-*.faiss")) == ["index-00000003.faiss", "index-00000004.faiss"]
