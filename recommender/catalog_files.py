"""The catalog's rows saved beside the index snapshots, as memory-mappable arrays: a starting service (or one
swapping to a newer snapshot) maps them instead of deriving every article again from the store (loading rows,
tokenising title + body, extracting entities), and every process on one snapshot directory shares one copy of
them in the page cache.

Layout, under `<snapshot dir>/catalog/`:
    seg-<random>/             a run of catalog rows as uncompressed .npy arrays (ids, vectors, dates, word and entity
                              term-frequency rows as CSR arrays with their document frequencies, metadata as per-row
                              JSON in one blob + offsets); written under a temporary name, then renamed: immutable
    catalog-00000007.json     manifest of index snapshot 7: model, dim, and the segments holding rows [0, n) in order
An update appends one segment with its new rows; a segment at least half the size of the one before it is merged
into it, so there are O(log n) segments and each row is rewritten O(log n) times. All of it is a cache: the
index's ids say which articles are live, and rows missing, unreadable (a missing or truncated array, sizes that do
not agree) or of another model are derived from the store as before. Arrays only (np.load without pickle); the
bytes inside an array are not checksummed: that would read every page at start.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from newsagg.config import RelatedSettings
from recommender.catalog import Catalog, CatalogRows
from recommender.index import atomic_write
from recommender.meta import EncodedMetas

log = logging.getLogger(__name__)
FORMAT = 2
_MANIFEST_RE = re.compile(r"^catalog-(\d{8})\.json$")
_SEGMENT_RE = re.compile(r"^seg-[0-9a-f]+(\.npz)?$")  # .npz: format 1 (read fully into memory), pruned
_COLUMNS = ("ids", "groups", "dense", "days", "fetched_days", "n_words", "meta_blob", "meta_offsets")


def _csr_arrays(prefix: str, m: sp.csr_matrix, df: np.ndarray) -> dict[str, np.ndarray]:
    return {f"{prefix}_data": m.data.astype(np.float32), f"{prefix}_indices": m.indices.astype(np.int32),
            f"{prefix}_indptr": m.indptr.astype(np.int64), f"{prefix}_df": np.asarray(df, dtype=np.int32)}


def write_rows(path: Path, rows: CatalogRows) -> None:
    """Write a segment directory atomically (a temporary directory, fsynced, renamed into place)."""
    metas = EncodedMetas.of(rows.metas)
    arrays = {"ids": rows.id_column(), "groups": rows.group_column(),
              "dense": np.asarray(rows.dense, dtype=np.float32), "days": np.asarray(rows.days, dtype=np.float64),
              "fetched_days": np.asarray(rows.fetched_days, dtype=np.float64),
              "n_words": np.asarray(rows.n_words, dtype=np.int64), "meta_blob": np.asarray(metas.blob),
              "meta_offsets": np.asarray(metas.offsets, dtype=np.int64),
              **_csr_arrays("words", rows.words.tocsr(), rows.word_df if rows.word_df is not None
                            else np.bincount(rows.words.tocsr().indices, minlength=rows.words.shape[1])),
              **_csr_arrays("entities", rows.entities.tocsr(), rows.entity_df if rows.entity_df is not None
                            else np.bincount(rows.entities.tocsr().indices, minlength=rows.entities.shape[1]))}
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".tmp-{path.name}."))
    try:
        for name, arr in arrays.items():
            with open(tmp / f"{name}.npy", "wb") as fh:
                np.save(fh, arr, allow_pickle=False)
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _csr_of(prefix: str, z: dict, n: int, n_features: int) -> sp.csr_matrix:
    data, indices, indptr = z[f"{prefix}_data"], z[f"{prefix}_indices"], z[f"{prefix}_indptr"]
    if len(indptr) != n + 1 or int(indptr[0]) != 0 or int(indptr[-1]) != len(data) or len(indices) != len(data):
        raise ValueError(f"{prefix} rows do not agree with {n} rows")
    if len(z[f"{prefix}_df"]) != n_features:
        raise ValueError(f"{prefix} document frequencies have {len(z[prefix + '_df'])} features, not {n_features}")
    return sp.csr_matrix((data, indices, indptr), shape=(n, n_features), copy=False)


def read_rows(path: Path, dim: int, word_features: int, entity_features: int) -> CatalogRows:
    """Map a segment (nothing is read but the headers and small index arrays); ValueError/OSError if damaged."""
    names = [*_COLUMNS, *(f"{p}_{k}" for p in ("words", "entities") for k in ("data", "indices", "indptr", "df"))]
    z = {name: np.load(path / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in names}
    n = len(z["ids"])
    for name in ("groups", "days", "fetched_days", "n_words"):
        if len(z[name]) != n:
            raise ValueError(f"{name} has {len(z[name])} rows, not {n}")
    offsets = z["meta_offsets"]
    if z["dense"].shape != (n, dim) or len(offsets) != n + 1 or int(offsets[-1]) != len(z["meta_blob"]):
        raise ValueError("vectors or metadata do not agree with the ids")
    return CatalogRows(
        metas=EncodedMetas(z["meta_blob"], z["meta_offsets"]), dense=z["dense"],
        words=_csr_of("words", z, n, word_features), entities=_csr_of("entities", z, n, entity_features),
        days=np.asarray(z["days"]), fetched_days=np.asarray(z["fetched_days"]), n_words=np.asarray(z["n_words"]),
        ids=np.asarray(z["ids"]), groups=np.asarray(z["groups"]), word_df=z["words_df"], entity_df=z["entities_df"],
        mapped=True,
    )


def _size(segment: dict) -> int:
    return segment["end"] - segment["first"]


class CatalogFiles:
    def __init__(self, snapshot_dir: Path, keep: int):
        self.dir = Path(snapshot_dir) / "catalog"
        self.keep = keep

    def _manifest(self, version: int) -> dict | None:
        try:
            return json.loads((self.dir / f"catalog-{version:08d}.json").read_text())
        except (FileNotFoundError, ValueError):
            return None

    def _latest_manifest(self, up_to: int) -> dict | None:
        if not self.dir.is_dir():
            return None
        versions = sorted((int(m.group(1)) for p in self.dir.iterdir() if (m := _MANIFEST_RE.match(p.name))),
                          reverse=True)
        return next((mf for v in versions if v <= up_to and (mf := self._manifest(v))), None)

    # ---- writing -------------------------------------------------------------------------------------
    def save(self, catalog: Catalog, version: int, model: str) -> None:
        """Record the catalog as of index snapshot `version`: its new rows as a segment, then the manifest."""
        self.dir.mkdir(parents=True, exist_ok=True)
        segments = list(catalog.saved_segments)  # what already holds this catalog's first rows
        done = segments[-1]["end"] if segments else 0
        if done < len(catalog.meta):
            segments.append(self._write(catalog, done, len(catalog.meta)))
        while len(segments) >= 2 and 2 * _size(segments[-1]) >= _size(segments[-2]):
            segments[-2:] = [self._write(catalog, segments[-2]["first"], segments[-1]["end"])]
        manifest = {"version": version, "model": model, "dim": catalog.dim, "rows": len(catalog.meta),
                    "segments": segments, "format": FORMAT}
        atomic_write(self.dir / f"catalog-{version:08d}.json", json.dumps(manifest).encode())
        try:  # serve the saved rows mapped from now on, so the writer's memory stays bounded too
            catalog.adopt([self._read(catalog, seg) for seg in segments])
        except (OSError, ValueError, EOFError) as exc:  # they stay in memory: correct, only larger
            log.warning("could not map the catalog segments of snapshot %s (%s); keeping them in memory", version, exc)
        catalog.saved_segments = segments
        self._prune(version)

    def _write(self, catalog: Catalog, first: int, end: int) -> dict:
        name = f"seg-{uuid.uuid4().hex}"
        write_rows(self.dir / name, catalog.rows_between(first, end))
        return {"file": name, "first": first, "end": end}

    def _prune(self, version: int) -> None:
        """Drop manifests older than the kept snapshots, then segments no kept manifest names."""
        referenced = set()
        for p in list(self.dir.iterdir()):
            m = _MANIFEST_RE.match(p.name)
            if not m:
                continue
            if int(m.group(1)) <= version - self.keep:
                p.unlink(missing_ok=True)
            elif (mf := self._manifest(int(m.group(1)))) is not None:
                referenced.update(seg["file"] for seg in mf["segments"])
        for p in self.dir.iterdir():
            if _SEGMENT_RE.match(p.name) and p.name not in referenced:
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)

    # ---- reading -------------------------------------------------------------------------------------
    def _read(self, catalog: Catalog, seg: dict) -> CatalogRows:
        rows = read_rows(self.dir / seg["file"], catalog.dim, catalog.words.n_features, catalog.ents.n_features)
        if len(rows.metas) != _size(seg):
            raise ValueError(f"segment {seg['file']} holds {len(rows.metas)} rows, not {_size(seg)}")
        return rows

    def load(self, version: int, model: str, live_ids: set[int], settings: RelatedSettings) -> Catalog | None:
        """The saved catalog closest to snapshot `version`, mapped (rows of ids not in `live_ids` dead), or None."""
        manifest = self._latest_manifest(version)
        if manifest is None or manifest["model"] != model:
            return None
        if manifest.get("format") != FORMAT:
            log.warning("catalog files of snapshot %s are of format %s, not %s; deriving the catalog from the store",
                        manifest["version"], manifest.get("format"), FORMAT)
            return None
        catalog = Catalog(settings, manifest["dim"])
        live = np.fromiter(live_ids, dtype=np.int64, count=len(live_ids))
        try:
            for seg in manifest["segments"]:
                if seg["first"] != len(catalog.meta):
                    raise ValueError(f"segment {seg['file']} does not start at row {len(catalog.meta)}")
                rows = self._read(catalog, seg)
                catalog.add_rows(rows, np.isin(rows.ids, live))
        except (OSError, ValueError, KeyError, EOFError) as exc:  # pruned, truncated, damaged: a cache, use the store
            log.warning("catalog files of snapshot %s unreadable (%s); deriving the catalog from the store",
                        manifest["version"], exc)
            return None
        catalog.saved_segments = list(manifest["segments"])
        return catalog
