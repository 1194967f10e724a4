"""Keyword, semantic and hybrid search over the indexed articles (for the API and the dashboard)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from recommender.catalog import Catalog
from recommender.index import VectorIndex

MODES = ("keyword", "semantic", "hybrid")
RRF_K = 60  # reciprocal-rank-fusion constant (Cormack et al.): damps the head of each list


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    url: str
    title: str
    source: str
    published: datetime | None
    score: float
    mode: str


def keyword_ranking(catalog: Catalog, query: str, k: int) -> list[tuple[int, float]]:
    """(row, TF-IDF cosine) for rows sharing words with the query, best first."""
    q = catalog.words.weigh(catalog.words.tf([query]))
    if q.nnz == 0 or len(catalog) == 0:
        return []
    sims = (q @ catalog.words.matrix_t()).toarray()[0]
    sims[~catalog.alive] = 0.0
    top = np.argsort(-sims)[:k]
    return [(int(r), float(sims[r])) for r in top if sims[r] > 0]


def semantic_ranking(catalog: Catalog, index: VectorIndex, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
    hits = index.search(qvec, k)[0]
    return [(r, h.score) for h in hits if (r := catalog.row(h.article_id)) is not None]


def fuse_rankings(*rankings: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: robust to the two lists' incomparable score scales."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, (row, _) in enumerate(ranking):
            scores[row] = scores.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def to_hits(catalog: Catalog, ranking: list[tuple[int, float]], mode: str, limit: int) -> list[SearchHit]:
    """Top hits, one per near-duplicate group."""
    out: list[SearchHit] = []
    groups: set[int] = set()
    for row, score in ranking:
        m = catalog.meta[row]
        group = m.group if m.group is not None else -m.article_id
        if group in groups:
            continue
        groups.add(group)
        out.append(SearchHit(m.article_id, m.url, m.title, m.source, m.published, round(score, 4), mode))
        if len(out) >= limit:
            break
    return out
