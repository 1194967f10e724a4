"""A serving state at archive scale built by a bulk path through the real code, for benchmarks/related_scale.py
--bulk (1M articles through update_index() would take hours on 2 shared cores: ~1,068 s per 100k here).

    python benchmarks/bulk_state.py rows  --n N --out DIR [--worker K --workers W]   # derive catalog rows
    python benchmarks/bulk_state.py faiss --n N --out DIR                             # FAISS snapshot as shipped
    python benchmarks/related_scale.py --n N --bulk DIR                               # the rest, then measure
    python benchmarks/bulk_state.py segments --n N --out DIR   # only the catalog, saved as the service saves it
    python benchmarks/bulk_state.py open --n N --out DIR       # a fresh process maps it (+ FAISS): time, RSS

`rows` runs the catalog's own derivation (`rows_of_articles`: tokens, entities, metadata) over the synthetic
archive (benchmarks/archive.py) in chunks, written as numpy archives (no pickle) so W workers share the work and a
stopped run resumes. `faiss` builds the shipped index (`VectorIndex.build`, HNSW fp16 with the default settings)
over the archive's vectors and publishes it as snapshot 1. `assemble` (related_scale.py --bulk) then puts the rows
in the store, the catalog (saved as the service saves it: `CatalogFiles.save`) and the word index
(`Catalog.word_documents`, `WordIndex.replace`), and materializes the lists of a uniformly random sample.
What this skips, and says so: stories are not assigned to the bulk rows (only to the 1,000 added afterwards); and
when fewer chunks were derived than N needs, chunk c reuses the derived text rows of chunk c mod B (own ids, urls,
vectors, dates shifted by 53 days per reuse): the sizes per article are real, the texts repeat.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import zlib
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.archive import Archive  # noqa: E402
from newsagg.config import EmbeddingSettings, IndexSettings, RelatedSettings  # noqa: E402
from newsagg.models import Article, Source  # noqa: E402
from recommender.catalog import Catalog, CatalogRows, rows_of_articles  # noqa: E402
from recommender.embed import Embedder  # noqa: E402
from recommender.index import VectorIndex  # noqa: E402

CHUNK = 10_000


def archive_of(n: int, extra: int) -> Archive:
    return Archive(n + extra, dim=Embedder(EmbeddingSettings()).info.dim)


def url_of(a) -> str:
    return f"https://source{a.source:02d}.example/{a.id}"


def chunk_path(out: Path, c: int) -> Path:
    return out / "rows" / f"chunk-{c:05d}.npz"


def _blob(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    data = [s.encode("utf-8") for s in strings]
    offsets = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    return np.frombuffer(b"".join(data), dtype=np.uint8), offsets


def _strings(data: np.ndarray, offsets: np.ndarray) -> list[str]:
    raw = data.tobytes()
    return [raw[offsets[i]: offsets[i + 1]].decode("utf-8") for i in range(len(offsets) - 1)]


def derive_chunk(archive: Archive, c: int, n: int, out: Path) -> None:
    start, end = c * CHUNK, min(n, (c + 1) * CHUNK)
    syn = list(archive.articles(start, end))
    sources = {}
    arts = [Article(id=a.id, url=url_of(a), title=a.title, body=a.body, tags=[], published_at=a.published,
                    fetched_at=a.published, near_dup_group=a.id,
                    source=sources.setdefault(a.source, Source(name=f"source{a.source:02d}"))) for a in syn]
    vectors = archive.vectors(start, end)
    scratch = Catalog(RelatedSettings(), archive.dim)  # its vectorizers only (stateless tf)
    rows = rows_of_articles(arts, {a.id: v for a, v in zip(arts, vectors)}, scratch.words, scratch.ents)
    metas = [[m.article_id, m.url, m.title, m.source, m.published.isoformat() if m.published else None, m.group,
              list(m.tags), list(m.entities)] for m in rows.metas]
    body, body_off = _blob([a.body for a in syn])
    arrays = {"meta": np.frombuffer(zlib.compress(json.dumps(metas).encode(), 1), dtype=np.uint8),
              "dense": rows.dense, "days": rows.days, "fetched_days": rows.fetched_days, "n_words": rows.n_words,
              "source": np.asarray([a.source for a in syn], dtype=np.int64), "body": body, "body_off": body_off}
    for name, m in (("words", rows.words), ("entities", rows.entities)):
        arrays.update({f"{name}_data": m.data, f"{name}_indices": m.indices, f"{name}_indptr": m.indptr,
                       f"{name}_shape": np.asarray(m.shape)})
    path = chunk_path(out, c)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def read_chunk(out: Path, c: int):
    """(CatalogRows, bodies, source numbers) of chunk c."""
    import scipy.sparse as sp

    from recommender.catalog import ArticleMeta
    from datetime import datetime

    with np.load(chunk_path(out, c), allow_pickle=False) as z:
        metas = [ArticleMeta(aid, url, title, src, datetime.fromisoformat(p) if p else None, g, tuple(t), tuple(e))
                 for aid, url, title, src, p, g, t, e in json.loads(zlib.decompress(z["meta"].tobytes()))]
        mats = {name: sp.csr_matrix((z[f"{name}_data"], z[f"{name}_indices"], z[f"{name}_indptr"]),
                                    shape=tuple(int(x) for x in z[f"{name}_shape"])) for name in ("words", "entities")}
        rows = CatalogRows(metas=metas, dense=z["dense"], words=mats["words"], entities=mats["entities"],
                           days=z["days"], fetched_days=z["fetched_days"], n_words=z["n_words"])
        return rows, _strings(z["body"], z["body_off"]), z["source"].tolist()


def n_chunks(n: int) -> int:
    return (n + CHUNK - 1) // CHUNK


def derive_rows(n: int, out: Path, worker: int, workers: int, extra: int) -> None:
    (out / "rows").mkdir(parents=True, exist_ok=True)
    (out / "rows" / "archive.json").write_text(json.dumps({"n": n}))
    archive = archive_of(n, extra)
    for c in range(worker, n_chunks(n), workers):
        if chunk_path(out, c).exists():
            continue
        t0 = time.perf_counter()
        derive_chunk(archive, c, n, out)
        print(f"chunk {c} in {time.perf_counter() - t0:.1f} s", flush=True)


def build_faiss(n: int, out: Path, extra: int) -> int:
    archive = archive_of(n, extra)
    key = Embedder(EmbeddingSettings()).info.key
    vectors = np.vstack([archive.vectors(s, min(n, s + 50_000)) for s in range(0, n, 50_000)])
    t0 = time.perf_counter()
    index = VectorIndex.build(key, np.arange(1, n + 1, dtype=np.int64), vectors, IndexSettings())
    build_s = time.perf_counter() - t0
    version = index.save(out / "index")
    (out / "faiss_build.json").write_text(json.dumps({"n": n, "build_s": round(build_s, 1), "version": version}))
    print(f"faiss {index.kind} n={n} built in {build_s:.1f} s, snapshot {version}", flush=True)
    return version


def _reused(rows: CatalogRows, shift: int, c: int, archive: Archive, n: int) -> CatalogRows:
    """Chunk c as a copy of a derived chunk: own ids, urls and vectors, dates `shift` days later."""
    from dataclasses import replace
    from datetime import timedelta

    offset = c * CHUNK - int(rows.metas[0].article_id - 1)
    metas = [replace(m, article_id=m.article_id + offset, group=m.article_id + offset,
                     url=m.url.rsplit("/", 1)[0] + f"/{m.article_id + offset}",
                     published=m.published + timedelta(days=shift) if m.published else None) for m in rows.metas]
    start = c * CHUNK
    return CatalogRows(metas=metas, dense=archive.vectors(start, min(n, start + len(metas))), words=rows.words,
                       entities=rows.entities, days=rows.days + shift, fetched_days=rows.fetched_days + shift,
                       n_words=rows.n_words)


def _chunks(out: Path, n: int, archive: Archive):
    """(chunk number, rows, bodies, sources) for every chunk of N: derived ones, then reused ones."""
    base = 0
    while chunk_path(out, base).exists():  # the derived chunks 0..B-1 (a stopped run may leave later ones)
        base += 1
    if base == 0:
        raise SystemExit(f"no derived rows in {out / 'rows'} (run: bulk_state.py rows)")
    for c in range(n_chunks(n)):
        rows, bodies, sources = read_chunk(out, c % base)
        if c >= base:
            rows = _reused(rows, 53 * (c // base), c, archive, n)
        if len(rows.metas) > n - c * CHUNK:  # the last chunk of N
            k = n - c * CHUNK
            rows = CatalogRows(rows.metas[:k], rows.dense[:k], rows.words[:k], rows.entities[:k], rows.days[:k],
                               rows.fetched_days[:k], rows.n_words[:k])
            bodies, sources = bodies[:k], sources[:k]
        yield c, rows, bodies, sources, base


def assemble(service, out: Path, n: int, sample: int, extra: int) -> dict:
    """Store, catalog (saved), FAISS snapshot, word index and a uniformly random sample of lists, for N articles."""
    import random

    from sqlalchemy import insert

    from recommender.related_lists import ranked_lists

    archive = archive_of(json.loads((out / "rows" / "archive.json").read_text())["n"], extra)  # the rows' archive
    store, settings = service.store, service.settings
    catalog = Catalog(settings.related, archive.dim)
    t0, base = time.perf_counter(), 0
    for c, rows, bodies, sources, base in _chunks(out, n, archive):
        catalog.add_rows(rows)
        with store.engine.begin() as conn:
            conn.execute(insert(Article.__table__), [
                dict(id=m.article_id, url=m.url, source_id=s + 1, title=m.title, body=b, summary="", authors=[],
                     tags=[], relevance=1.0, paywalled=False, published_at=m.published, fetched_at=m.published,
                     content_hash=f"{m.article_id:016x}", near_dup_group=m.article_id)
                for m, b, s in zip(rows.metas, bodies, sources)])
    rows_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index, faiss_s = _index_for(service, catalog, out, n)
    version = index.save(service.snapshot_dir)
    t1 = time.perf_counter()
    service.catalog_files.save(catalog, version, service.model_key)
    save_s = time.perf_counter() - t1
    t1 = time.perf_counter()
    _word_index(service, catalog, out, n, base)
    words_s = time.perf_counter() - t1
    service._catalog, service._index, service._version = catalog, index, version
    ids = random.Random(3).sample(range(1, n + 1), min(sample, n))
    t1 = time.perf_counter()
    done = 0
    for i in range(0, len(ids), 500):
        lists = ranked_lists(service.ranker, catalog, index, service.words, ids[i : i + 500],
                             settings.related.materialized_length)
        done += service.lists.put(version, lists)
    lists_s = time.perf_counter() - t1
    return {"bulk_rows_s": round(rows_s, 1), "bulk_faiss_s": faiss_s, "bulk_catalog_save_s": round(save_s, 1),
            "bulk_words_s": round(words_s, 1), "bulk_derived_chunks": base, "bulk_chunk": CHUNK,
            "lists_built": done, "lists_s": round(lists_s, 1), "list_ms": round(1000 * lists_s / max(done, 1), 1)}


def _index_for(service, catalog: Catalog, out: Path, n: int):
    """The prebuilt FAISS snapshot of N (bulk_state.py faiss), else one built now from the catalog's vectors."""
    built = out / "faiss_build.json"
    if built.exists() and json.loads(built.read_text())["n"] == n:
        from recommender.index import load_latest

        index = load_latest(out / "index", service.settings.index)
        if index is not None and len(index) == n and index.model == service.model_key:
            return index, json.loads(built.read_text())["build_s"]
    t0 = time.perf_counter()
    rows = np.arange(len(catalog.ids))
    index = VectorIndex.build(service.model_key, catalog.ids, catalog.dense[rows], service.settings.index)
    return index, round(time.perf_counter() - t0, 1)


def _word_index(service, catalog: Catalog, out: Path, n: int, base: int) -> None:
    """Word documents of each derived chunk (final IDF), added for it and for every chunk reusing its rows."""
    for b in range(min(base, n_chunks(n))):
        rows, bodies, _ = read_chunk(out, b)
        arts = [Article(id=m.article_id, title=m.title, body=body) for m, body in zip(rows.metas, bodies)]
        docs = catalog.word_documents(arts, service.settings.related.query_terms)
        for c in range(b, n_chunks(n), base):
            shift = (c - b) * CHUNK
            service.words.replace([(aid + shift, tokens, terms) for aid, tokens, terms in docs
                                   if aid + shift <= n])


def save_segments(n: int, out: Path, extra: int) -> dict:
    """The catalog of N (derived rows, reused past the derived chunks) saved beside FAISS's snapshot (or as 1)."""
    from recommender.catalog_files import CatalogFiles
    from recommender.index import snapshot_version

    archive = archive_of(json.loads((out / "rows" / "archive.json").read_text())["n"], extra)
    catalog = Catalog(RelatedSettings(), archive.dim)
    t0 = time.perf_counter()
    for _, rows, _, _, base in _chunks(out, n, archive):
        catalog.add_rows(rows)
    add_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    version = snapshot_version(out / "index") or 1
    CatalogFiles(out / "index", keep=IndexSettings().keep_snapshots).save(catalog, version, Embedder(
        EmbeddingSettings()).info.key)
    result = {"n": n, "derived_chunks": base, "add_s": round(add_s, 1), "save_s": round(time.perf_counter() - t0, 1),
              "version": version}
    print(json.dumps(result), flush=True)
    return result


def open_state(n: int, out: Path) -> dict:
    """What a starting API process does with the snapshot directory's catalog and FAISS index: time and RSS."""
    import random

    import psutil

    from recommender.catalog_files import CatalogFiles
    from recommender.index import load_latest, snapshot_version

    def rss() -> tuple[int, int]:
        fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
        kb = lambda k: int(fields.get(k, "0 kB").split()[0])  # noqa: E731
        return round(kb("RssAnon") / 1024), round((kb("RssFile") + kb("RssShmem")) / 1024)

    base_anon, _ = rss()
    settings = IndexSettings()
    t0 = time.perf_counter()
    index = load_latest(out / "index", settings) if snapshot_version(out / "index") else None
    faiss_s = time.perf_counter() - t0
    live = index.ids() if index is not None else set(range(1, n + 1))
    t0 = time.perf_counter()
    catalog = CatalogFiles(out / "index", keep=settings.keep_snapshots).load(
        max(snapshot_version(out / "index"), 1), Embedder(EmbeddingSettings()).info.key, live, RelatedSettings())
    catalog_s = time.perf_counter() - t0
    anon, file_ = rss()
    rows = random.Random(5).sample(range(len(catalog.ids)), 500)
    lat = []
    for r in rows:  # what a live ranking reads of the catalog: one query row against ~100 candidate rows
        t = time.perf_counter()
        catalog.fused(catalog.features_of_rows([r]), np.asarray(random.Random(r).sample(range(n), 100)))
        lat.append(time.perf_counter() - t)
    anon2, file2 = rss()
    result = {"n": n, "faiss_load_s": round(faiss_s, 1), "faiss": index is not None, "catalog_load_s": round(
        catalog_s, 1), "rss_mb": round(psutil.Process().memory_info().rss / 2**20), "rss_anon_mb": anon,
        "rss_file_mb": file_, "interpreter_anon_mb": base_anon, "fused_100_p50_ms": round(
        float(np.percentile(lat, 50)) * 1000, 2), "fused_100_p99_ms": round(float(np.percentile(lat, 99)) * 1000, 2),
        "rss_anon_after_mb": anon2, "rss_file_after_mb": file2, "catalog_blocks": catalog.dense.block_count()}
    print(json.dumps(result), flush=True)
    return result


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stage", choices=["rows", "faiss", "segments", "open"])
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--worker", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--extra", type=int, default=1000, help="archive articles beyond N (the update's new ones)")
    args = ap.parse_args(argv)
    if args.stage == "rows":
        derive_rows(args.n, args.out, args.worker, args.workers, args.extra)
    elif args.stage == "faiss":
        build_faiss(args.n, args.out, args.extra)
    elif args.stage == "segments":
        save_segments(args.n, args.out, args.extra)
    else:
        open_state(args.n, args.out)


if __name__ == "__main__":
    main()
