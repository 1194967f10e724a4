"""FAISS vector index keyed by article id, with atomic, versioned snapshots.

Layout of a snapshot directory:
    index-00000007.faiss   the FAISS index (IndexIDMap2 over Flat or HNSW), written via temp file + fsync + rename
    index-00000007.json    sidecar: version, model, dim, kind, ids, removed ids, checksum (JSON; never pickle)
    CURRENT                the published version number, replaced atomically last
A version's files are immutable once named, and CURRENT only ever names complete ones, so a reader sees the old
or the new snapshot, never a mix. Stray `.tmp-*` files are what a crash mid-write leaves; readers ignore them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import faiss
import numpy as np

from newsagg.config import IndexSettings

log = logging.getLogger(__name__)
CURRENT = "CURRENT"
_SNAPSHOT_RE = re.compile(r"^index-(\d{8})\.(faiss|json)$")


@dataclass
class IndexMeta:
    """What the sidecar records about a snapshot."""

    model: str
    dim: int
    kind: str
    version: int = 0
    ids: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Hit:
    article_id: int
    score: float


class VectorIndex:
    """Inner-product search over unit vectors; exact (flat) for small collections, HNSW past a threshold.

    HNSW cannot delete in place, so removals are tombstones filtered at search time (and dropped at the next
    rebuild); flat indexes delete for real. Searches may run concurrently; writes take a lock.
    """

    def __init__(self, index: faiss.Index, meta: IndexMeta, settings: IndexSettings):
        self.index = index
        self.meta = meta
        self.settings = settings
        self._ids: set[int] = set(meta.ids)
        self._removed: set[int] = set(meta.removed)
        self._lock = threading.RLock()
        self._apply_search_params()

    # ---- construction --------------------------------------------------------------------------------
    @classmethod
    def create(cls, model: str, dim: int, settings: IndexSettings, expected_size: int = 0) -> "VectorIndex":
        kind = choose_kind(settings, expected_size)
        return cls(faiss.IndexIDMap2(_new_base(kind, dim, settings)), IndexMeta(model, dim, kind), settings)

    @classmethod
    def build(cls, model: str, ids: np.ndarray, vectors: np.ndarray, settings: IndexSettings) -> "VectorIndex":
        dim = vectors.shape[1] if len(vectors) else 0
        index = cls.create(model, dim, settings, expected_size=len(ids))
        index.add(ids, vectors)
        return index

    def set_ef_search(self, ef_search: int) -> None:
        """Change HNSW's search-time beam width (recall vs latency); no effect on a flat index."""
        self.settings = self.settings.model_copy(update={"hnsw_ef_search": ef_search})
        self._apply_search_params()

    def _apply_search_params(self) -> None:
        base = faiss.downcast_index(self.index.index)
        if hasattr(base, "hnsw"):
            base.hnsw.efSearch = self.settings.hnsw_ef_search

    # ---- contents ------------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.meta.kind

    @property
    def model(self) -> str:
        return self.meta.model

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, article_id: int) -> bool:
        return article_id in self._ids

    def ids(self) -> set[int]:
        return set(self._ids)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add (or replace) vectors; ids already present are replaced."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with self._lock:
            present = [i for i in ids.tolist() if i in self._ids or i in self._removed]
            if present:
                self._remove_now(present)
            base = faiss.downcast_index(self.index.index)
            if hasattr(base, "is_trained") and not base.is_trained:
                base.train(vectors)
            self.index.add_with_ids(vectors, ids)
            self._ids.update(ids.tolist())

    def remove(self, ids) -> int:
        """Forget these ids; returns how many were present."""
        with self._lock:
            present = [int(i) for i in ids if int(i) in self._ids]
            self._ids.difference_update(present)
            if self.kind == "flat":
                self.index.remove_ids(np.asarray(present, dtype=np.int64))
            else:
                self._removed.update(present)
            return len(present)

    def _remove_now(self, ids: list[int]) -> None:
        if self.kind == "flat":
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))
            self._ids.difference_update(ids)
        else:
            # A re-added id would be shadowed by its tombstone; replacing in HNSW needs a rebuild.
            raise ValueError(f"HNSW index cannot replace ids in place: {ids[:5]}… (rebuild instead)")

    def vector(self, article_id: int) -> np.ndarray | None:
        if article_id not in self._ids:
            return None
        return self.index.reconstruct(int(article_id))

    def search(self, queries: np.ndarray, k: int) -> list[list[Hit]]:
        """Top-k per query (best first), removed ids never returned."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if not self._ids or k <= 0:
            return [[] for _ in range(len(queries))]
        extra = len(self._removed)
        with _one_thread() if len(queries) == 1 else contextlib.nullcontext():
            scores, labels = self.index.search(queries, min(k + extra, self.index.ntotal))
        out = []
        for srow, lrow in zip(scores, labels):
            hits = [Hit(int(i), float(s)) for s, i in zip(srow, lrow) if i >= 0 and int(i) not in self._removed]
            out.append(hits[:k])
        return out

    def memory_bytes(self) -> int:
        """Serialized size of the FAISS index (what it occupies in RAM, near enough)."""
        return int(faiss.serialize_index(self.index).nbytes)

    # ---- snapshots -----------------------------------------------------------------------------------
    def save(self, directory: Path) -> int:
        """Publish a new snapshot version atomically; returns its version."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            version = max(snapshot_version(directory), _highest_version_file(directory)) + 1
            blob = faiss.serialize_index(self.index).tobytes()
            self.meta = IndexMeta(
                self.meta.model, self.meta.dim, self.meta.kind, version, sorted(self._ids), sorted(self._removed)
            )
            sidecar = {**self.meta.__dict__, "count": len(self._ids), "crc32": zlib.crc32(blob), "format": 1}
            atomic_write(directory / f"index-{version:08d}.faiss", blob)
            atomic_write(directory / f"index-{version:08d}.json", json.dumps(sidecar).encode())
            atomic_write(directory / CURRENT, f"{version}\n".encode())
        _prune(directory, keep=self.settings.keep_snapshots)
        return version

    @classmethod
    def load(cls, directory: Path, version: int, settings: IndexSettings) -> "VectorIndex":
        directory = Path(directory)
        sidecar = json.loads((directory / f"index-{version:08d}.json").read_text())
        blob = (directory / f"index-{version:08d}.faiss").read_bytes()
        if zlib.crc32(blob) != sidecar["crc32"]:
            raise ValueError(f"snapshot {version} in {directory} is corrupt (checksum mismatch)")
        index = faiss.deserialize_index(np.frombuffer(blob, dtype=np.uint8))
        fields = {k: sidecar[k] for k in ("model", "dim", "kind", "version", "ids", "removed")}
        return cls(index, IndexMeta(**fields), settings)


def choose_kind(settings: IndexSettings, size: int) -> str:
    if settings.kind == "auto":
        return "hnsw" if size >= settings.hnsw_threshold else "flat"
    if settings.kind not in ("flat", "hnsw"):
        raise ValueError(f"unknown index kind {settings.kind!r} (auto | flat | hnsw)")
    return settings.kind


def _new_base(kind: str, dim: int, settings: IndexSettings) -> faiss.Index:
    if kind == "flat":
        return faiss.IndexFlatIP(dim)
    storage = settings.hnsw_storage
    if storage == "flat":
        base = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    else:
        qtype = {"sq8": faiss.ScalarQuantizer.QT_8bit, "fp16": faiss.ScalarQuantizer.QT_fp16}[storage]
        base = faiss.IndexHNSWSQ(dim, qtype, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    base.hnsw.efConstruction = settings.hnsw_ef_construction
    return base


def snapshot_version(directory: Path) -> int:
    """The published snapshot version (0 if none): one tiny file read, cheap enough to poll per request."""
    try:
        return int((Path(directory) / CURRENT).read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def load_latest(directory: Path, settings: IndexSettings) -> VectorIndex | None:
    """The published snapshot, or None when nothing was published yet."""
    version = snapshot_version(directory)
    return VectorIndex.load(directory, version, settings) if version else None


def _highest_version_file(directory: Path) -> int:
    found = [int(m.group(1)) for p in directory.iterdir() if (m := _SNAPSHOT_RE.match(p.name))]
    return max(found, default=0)


@contextlib.contextmanager
def _one_thread():
    """FAISS on one OpenMP thread, for the calling thread only (the setting is per thread), restored after.

    faiss parallelises a search over its queries: for one query a thread team only wakes and then spins on the
    other core against the rest of the request (at 1M, related() p99 42 → 24 ms)."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


def atomic_write(path: Path, data: bytes | Callable[[BinaryIO], None]) -> None:
    """Write bytes (or whatever `data(file)` writes) to a temp file, fsync it, rename it over `path`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


def _prune(directory: Path, keep: int) -> None:
    """Drop all but the newest `keep` versions (a reader still loading an older one has a grace of keep-1)."""
    current = snapshot_version(directory)
    for p in directory.iterdir():
        m = _SNAPSHOT_RE.match(p.name)
        if m and int(m.group(1)) <= current - keep:
            p.unlink(missing_ok=True)
