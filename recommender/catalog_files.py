"""The catalog's rows saved beside the index snapshots, so a starting service reads them back instead of deriving
every article again from the store (loading rows, tokenising title + body, extracting entities).

Layout, under `<snapshot dir>/catalog/`:
    seg-<random>.npz          a run of catalog rows; immutable once named (a unique name: never overwritten)
    catalog-00000007.json     manifest of index snapshot 7: model, dim, and the segments holding rows [0, n) in order
An update appends one segment with its new rows; a segment at least half the size of the one before it is merged
into it, so there are O(log n) segments and each row is rewritten O(log n) times. All of it is a cache: the
index's ids say which articles are live, and rows missing, unreadable or of another model are derived from the
store as before. Arrays only (numpy .npz without pickle, metadata as JSON).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
import zlib
from datetime import datetime
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from newsagg.config import RelatedSettings
from recommender.catalog import ArticleMeta, Catalog, CatalogRows
from recommender.index import atomic_write

log = logging.getLogger(__name__)
_MANIFEST_RE = re.compile(r"^catalog-(\d{8})\.json$")
_SEGMENT_RE = re.compile(r"^seg-[0-9a-f]+\.npz$")


def _meta_json(m: ArticleMeta) -> list:
    return [m.article_id, m.url, m.title, m.source, m.published.isoformat() if m.published else None, m.group,
            list(m.tags), list(m.entities)]


def _meta_of(row: list) -> ArticleMeta:
    aid, url, title, source, published, group, tags, entities = row
    return ArticleMeta(aid, url, title, source, datetime.fromisoformat(published) if published else None, group,
                       tuple(tags), tuple(entities))


def _csr_arrays(prefix: str, m: sp.csr_matrix) -> dict[str, np.ndarray]:
    m = m.tocsr()
    return {f"{prefix}_data": m.data.astype(np.float32), f"{prefix}_indices": m.indices.astype(np.int32),
            f"{prefix}_indptr": m.indptr.astype(np.int64), f"{prefix}_shape": np.asarray(m.shape, dtype=np.int64)}


def _csr_of(prefix: str, z) -> sp.csr_matrix:
    shape = tuple(int(x) for x in z[f"{prefix}_shape"])
    return sp.csr_matrix((z[f"{prefix}_data"], z[f"{prefix}_indices"], z[f"{prefix}_indptr"]), shape=shape)


def write_rows(path: Path, rows: CatalogRows) -> None:
    meta = zlib.compress(json.dumps([_meta_json(m) for m in rows.metas]).encode("utf-8"), 3)
    arrays = {"meta": np.frombuffer(meta, dtype=np.uint8), "dense": np.asarray(rows.dense, dtype=np.float32),
              "days": rows.days, "fetched_days": rows.fetched_days, "n_words": rows.n_words,
              **_csr_arrays("words", rows.words), **_csr_arrays("entities", rows.entities)}
    atomic_write(path, lambda fh: np.savez(fh, **arrays))


def read_rows(path: Path) -> CatalogRows:
    with np.load(path, allow_pickle=False) as z:
        metas = [_meta_of(r) for r in json.loads(zlib.decompress(z["meta"].tobytes()))]
        return CatalogRows(metas=metas, dense=z["dense"], words=_csr_of("words", z),
                           entities=_csr_of("entities", z), days=z["days"], fetched_days=z["fetched_days"],
                           n_words=z["n_words"])


def _concat(a: CatalogRows, b: CatalogRows) -> CatalogRows:
    return CatalogRows(a.metas + b.metas, np.vstack([a.dense, b.dense]), sp.vstack([a.words, b.words], "csr"),
                       sp.vstack([a.entities, b.entities], "csr"), np.concatenate([a.days, b.days]),
                       np.concatenate([a.fetched_days, b.fetched_days]), np.concatenate([a.n_words, b.n_words]))


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
                    "segments": segments, "format": 1}
        atomic_write(self.dir / f"catalog-{version:08d}.json", json.dumps(manifest).encode())
        catalog.saved_segments = segments
        self._prune(version)

    def _write(self, catalog: Catalog, first: int, end: int) -> dict:
        name = f"seg-{uuid.uuid4().hex}.npz"
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
                p.unlink(missing_ok=True)

    # ---- reading -------------------------------------------------------------------------------------
    def load(self, version: int, model: str, live_ids: set[int], settings: RelatedSettings) -> Catalog | None:
        """The saved catalog closest to snapshot `version` (rows of ids not in `live_ids` dead), or None."""
        manifest = self._latest_manifest(version)
        if manifest is None or manifest["model"] != model:
            return None
        catalog = Catalog(settings, manifest["dim"])
        try:
            for seg in manifest["segments"]:
                rows = read_rows(self.dir / seg["file"])
                if len(rows.metas) != seg["end"] - seg["first"] or seg["first"] != len(catalog.meta):
                    raise ValueError(f"segment {seg['file']} does not hold rows {seg['first']}-{seg['end']}")
                alive = np.fromiter((m.article_id in live_ids for m in rows.metas), dtype=bool, count=len(rows.metas))
                catalog.add_rows(rows, alive)
        except Exception as exc:  # noqa: BLE001  pruned meanwhile, truncated, damaged...: a cache, so use the store
            log.warning("catalog files of snapshot %s unreadable (%s); deriving the catalog from the store",
                        manifest["version"], exc)
            return None
        catalog.saved_segments = list(manifest["segments"])
        return catalog
