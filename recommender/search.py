"""Keyword, semantic and hybrid search over the indexed articles (for the API and the dashboard)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from newsagg.refs import ArticleRef
from recommender.catalog import Catalog
from recommender.index import VectorIndex
from recommender.word_index import WordIndex

MODES = ("keyword", "semantic", "hybrid")
RRF_K = 60  # reciprocal-rank-fusion constant (Cormack et al.): damps the head of each list


@dataclass(frozen=True)
class SearchHit(ArticleRef):
    """A search result: the article's reference, its score in the ranking that found it, and that ranking."""

    score: float
    mode: str


def keyword_ranking(catalog: Catalog, words: WordIndex, query: str, k: int) -> list[tuple[int, float]]:
    """(row, BM25 score) of articles sharing words with the query, best first, from the word index (no scan).

    The query is tokenised by the ranking's own analyzer and searched as plain terms: nothing in it is syntax, so
    `%`, `*`, quotes or `AND` are words (or nothing), never wildcards or a parse error."""
    terms = list(dict.fromkeys(catalog.words.analyzer(query)))
    hits = words.search([(t, 1.0) for t in terms], k)
    return [(r, score) for aid, score in hits if (r := catalog.row(aid)) is not None]


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
        out.append(SearchHit(**asdict(catalog.ref(row)), score=round(score, 4), mode=mode))
        if len(out) >= limit:
            break
    return out
