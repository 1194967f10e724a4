"""Speed benchmark of the vector index path used by RelatedService (recommender/index.py).

    python benchmarks/lookup.py --n 1000000 [--kind auto|flat|hnsw] [--ef-search 64,96,128] [--repeat 2]

Synthetic, clustered 384-d unit vectors (news embeddings are clustered by topic; uniform random vectors make
ANN search look both harder and less realistic). Reports build time, per-query related-lookup latency
(p50/p99, one query at a time, like an API request), recall@10 against exact search, index bytes per
article, and the time to add 1,000 more. Several efSearch values are measured on one build (it is a search-time
knob); each latency pass is repeated and the median of the passes reported (other processes may load the CPU), every
pass is printed. Recall@10 compares the 10 nearest *other* articles: the query article itself (always its own
nearest hit) is dropped from both sides, as the related list drops it. Last line: one JSON object (the row of the configured default efSearch first, then all rows).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import faiss
import numpy as np

from newsagg.config import IndexSettings
from recommender.index import VectorIndex

DIM = 384


def clustered_vectors(n: int, rng: np.random.Generator, n_centres: int | None = None) -> np.ndarray:
    """Unit vectors around random topic centres (cosine to own centre ~0.6-0.8, like same-topic articles)."""
    n_centres = n_centres or max(16, n // 200)
    centres = rng.standard_normal((n_centres, DIM), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, DIM), dtype=np.float32)
    for i in range(0, n, 100_000):
        m = min(100_000, n - i)
        which = rng.integers(0, n_centres, m)
        noise = rng.standard_normal((m, DIM), dtype=np.float32) / np.sqrt(DIM)
        v = centres[which] + noise * rng.uniform(0.5, 1.2, (m, 1)).astype(np.float32)
        out[i : i + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def recall_without_self(found: list[int], exact: list[int], query_id: int, k: int = 10) -> float:
    """Share of the exact 10 nearest other articles among the 10 nearest others found."""
    found = [i for i in found if i != query_id][:k]
    exact = [i for i in exact if i != query_id][:k]
    return len(set(found) & set(exact)) / len(exact) if exact else 1.0


def measure(index: VectorIndex, queries: np.ndarray, truth: np.ndarray, ef: int | None, repeat: int,
            query_ids: np.ndarray) -> dict:
    """Latency (median of `repeat` passes) and recall@10 without the self-hit, at one efSearch (None: as configured)."""
    if ef is not None:
        index.set_ef_search(ef)
    faiss.omp_set_num_threads(1)  # one request = one thread; the API serves requests in parallel
    passes, found = [], []
    for _ in range(repeat):
        lat, found = [], []
        for q in queries:
            t = time.perf_counter()
            hits = index.search(q[None, :], 11)[0]
            lat.append((time.perf_counter() - t) * 1000)
            found.append([h.article_id for h in hits])
        passes.append((float(np.percentile(lat, 50)), float(np.percentile(lat, 99))))
    faiss.omp_set_num_threads(0)
    recall = np.mean([recall_without_self(f, (t + 1).tolist(), qid) for f, t, qid in zip(found, truth, query_ids)])
    mid = (float(np.median([p[0] for p in passes])), float(np.median([p[1] for p in passes])))
    return {"ef_search": index.settings.hnsw_ef_search if index.kind == "hnsw" else None,
            "p50_ms": round(mid[0], 3), "p99_ms": round(mid[1], 3), "recall_at_10": round(float(recall), 4),
            "p99_passes": [round(p[1], 3) for p in passes]}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--kind", default="auto", help="auto | flat | hnsw (auto: HNSW past the settings threshold)")
    ap.add_argument("--ef-search", default=None, help="efSearch value(s), comma-separated (default: the setting)")
    ap.add_argument("--repeat", type=int, default=3, help="latency passes per efSearch (median reported)")
    ap.add_argument("--storage", default=None, help="HNSW storage: sq8 | fp16 | flat")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    settings = IndexSettings(kind=args.kind)
    default_ef = settings.hnsw_ef_search
    efs = [int(e) for e in args.ef_search.split(",")] if args.ef_search else [default_ef]
    if args.storage:
        settings.hnsw_storage = args.storage
    rng = np.random.default_rng(args.seed)
    vecs = clustered_vectors(args.n + 1000, rng)
    base, extra = vecs[: args.n], vecs[args.n :]
    ids = np.arange(1, args.n + 1, dtype=np.int64)

    t0 = time.perf_counter()
    index = VectorIndex.build("synthetic", ids, base, settings)
    build_s = time.perf_counter() - t0
    bytes_per = index.memory_bytes() / args.n

    # Queries are stored articles ("related to article X"), like the service's lookups.
    qrows = rng.choice(args.n, size=min(args.queries, args.n), replace=False)
    queries = base[qrows]
    exact = faiss.IndexFlatIP(DIM)
    exact.add(base)
    _, truth = exact.search(queries, 11)  # 11: the query itself + its 10 nearest others
    del exact

    rows = [measure(index, queries, truth, ef if index.kind == "hnsw" else None, args.repeat, qrows + 1)
            for ef in (efs if index.kind == "hnsw" else efs[:1])]

    t0 = time.perf_counter()
    index.add(np.arange(args.n + 1, args.n + 1001, dtype=np.int64), extra)
    add_s = time.perf_counter() - t0

    print(f"index kind {index.kind} (storage {settings.hnsw_storage}, M {settings.hnsw_m}, "
          f"efC {settings.hnsw_ef_construction}, default efSearch {default_ef})  n {args.n}  "
          f"queries {len(queries)}  build {build_s:.1f}s  {bytes_per:.0f} B/article  add 1000 {add_s:.3f}s")
    print(f"{'efSearch':>9}{'p50 ms':>9}{'p99 ms':>9}{'recall@10':>11}   p99 per pass")
    for r in rows:
        print(f"{r['ef_search']!s:>9}{r['p50_ms']:9.3f}{r['p99_ms']:9.3f}{r['recall_at_10']:11.4f}"
              f"   {r['p99_passes']}")
    head = next((r for r in rows if r["ef_search"] in (default_ef, None)), rows[0])
    res = {"n": args.n, "build_s": round(build_s, 2), "p50_ms": head["p50_ms"], "p99_ms": head["p99_ms"],
           "recall_at_10": head["recall_at_10"], "bytes_per_article": round(bytes_per, 1),
           "add_1000_s": round(add_s, 3), "ef_search": head["ef_search"], "by_ef_search": rows}
    print(json.dumps(res))
    return res


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
