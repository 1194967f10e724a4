"""Speed benchmark of the vector index path used by RelatedService (recommender/index.py).

    python benchmarks/lookup.py --n 1000000 [--kind auto|flat|hnsw]

Synthetic, clustered 384-d unit vectors (news embeddings are clustered by topic; uniform random vectors make
ANN search look both harder and less realistic). Reports build time, per-query related-lookup latency
(p50/p99, one query at a time, like an API request), recall@10 against exact search, index bytes per
article, and the time to add 1,000 more. Last line: one JSON object.
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


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--kind", default="auto", help="auto | flat | hnsw (auto: HNSW past the settings threshold)")
    ap.add_argument("--ef-search", type=int, default=None)
    ap.add_argument("--storage", default=None, help="HNSW storage: sq8 | fp16 | flat")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    settings = IndexSettings(kind=args.kind)
    if args.ef_search:
        settings.hnsw_ef_search = args.ef_search
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
    faiss.omp_set_num_threads(1)  # one request = one thread; the API serves requests in parallel
    lat = []
    found = []
    for q in queries:
        t = time.perf_counter()
        hits = index.search(q[None, :], 11)[0]
        lat.append((time.perf_counter() - t) * 1000)
        found.append([h.article_id for h in hits])
    faiss.omp_set_num_threads(0)

    exact = faiss.IndexFlatIP(DIM)
    exact.add(base)
    _, truth = exact.search(queries, 11)
    recall = np.mean([len(set(f[:11]) & set((t + 1).tolist())) / 11 for f, t in zip(found, truth)])

    t0 = time.perf_counter()
    index.add(np.arange(args.n + 1, args.n + 1001, dtype=np.int64), extra)
    add_s = time.perf_counter() - t0

    res = {
        "n": args.n, "build_s": round(build_s, 2), "p50_ms": round(float(np.percentile(lat, 50)), 3),
        "p99_ms": round(float(np.percentile(lat, 99)), 3), "recall_at_10": round(float(recall), 4),
        "bytes_per_article": round(bytes_per, 1), "add_1000_s": round(add_s, 3),
    }
    print(f"index kind {index.kind} (storage {settings.hnsw_storage}, M {settings.hnsw_m}, "
          f"efC {settings.hnsw_ef_construction}, efSearch {settings.hnsw_ef_search})  queries {len(queries)}")
    for k, v in res.items():
        print(f"  {k:18} {v}")
    print(json.dumps(res))
    return res


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
