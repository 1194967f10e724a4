"""The in-memory view the ranker needs of every indexed article: metadata, vector, word and entity rows.

It is derived from the store (filled by the service, incrementally by article id) and never written back.
Rows are append-only, so positions stay valid for concurrent readers; removed articles are masked.

What is resident per process: per row only a few numeric columns (id, group, alive, dates, length; ~50 bytes) and
the id → row lookup (sorted ids + their rows). Vectors, word and entity rows and metadata live in blocks
(recommender/row_blocks.py): memory-mapped from the segments saved beside the snapshots (recommender/
catalog_files.py; one copy in the page cache for every process) and, for rows added since the last save, in memory.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import scipy.sparse as sp

from newsagg.config import RelatedSettings
from newsagg.models import Article
from newsagg.refs import ArticleRef
from recommender.lexical import (
    HashedTfidf, entity_tokens, extract_entities, identity_analyzer, row_cosines, word_analyzer,
)
from recommender.meta import ArticleMeta, EncodedMetas
from recommender.row_blocks import RowBlocks

__all__ = ["ArticleMeta", "Catalog", "CatalogRows", "QueryFeatures", "article_document", "rows_of_articles", "to_days"]
NO_GROUP = np.iinfo(np.int64).min  # the group column's "none"
TAIL_POSITIONS = 65_536  # ids looked up in a dict until this many arrived since the sorted lookup was rebuilt

WORD_FEATURES = 2**20
ENTITY_FEATURES = 2**18


@dataclass(frozen=True)
class QueryFeatures:
    """One or more queries in the catalog's feature spaces (stored articles or free text)."""

    dense: np.ndarray  # (m, dim)
    words: sp.csr_matrix  # (m, WORD_FEATURES), weighted + normalised
    entities: sp.csr_matrix
    days: np.ndarray  # (m,) publish time in days since epoch, NaN when unknown
    n_words: np.ndarray  # (m,) length of title + body in words
    terms: list[list[tuple[str, float]]] | None = None  # free text: its distinctive (term, weight), heaviest first
    # free text: its top entity names; a stored row's are in its metadata, not decoded here (a ranking builds
    # features for ~100 candidate rows, and each decode parses the row's JSON)
    entity_names: list[tuple[str, ...]] = field(default_factory=list)


def to_days(ts: datetime | None) -> float:
    return ts.timestamp() / 86400.0 if ts is not None else math.nan


def article_document(title: str, body: str) -> str:
    return f"{title}\n{body}"


@dataclass(frozen=True)
class CatalogRows:
    """A run of catalog rows: what is derived from an article once (tokenising is the slow part)."""

    metas: Sequence[ArticleMeta]  # a list, or EncodedMetas (as saved)
    dense: np.ndarray  # (n, dim) float32
    words: sp.csr_matrix  # sublinear term frequencies, not yet IDF-weighted
    entities: sp.csr_matrix
    days: np.ndarray
    fetched_days: np.ndarray
    n_words: np.ndarray
    ids: np.ndarray | None = None  # article ids and near-duplicate groups (NO_GROUP): read from metas when None
    groups: np.ndarray | None = None
    word_df: np.ndarray | None = None  # document frequencies of the rows as saved (None: counted from them)
    entity_df: np.ndarray | None = None
    mapped: bool = False  # arrays memory-mapped from a saved segment (kept as they are, never copied)

    def id_column(self) -> np.ndarray:
        if self.ids is not None:
            return np.asarray(self.ids, dtype=np.int64)
        return np.fromiter((m.article_id for m in self.metas), dtype=np.int64, count=len(self.metas))

    def group_column(self) -> np.ndarray:
        if self.groups is not None:
            return np.asarray(self.groups, dtype=np.int64)
        return np.fromiter((NO_GROUP if m.group is None else m.group for m in self.metas), dtype=np.int64,
                           count=len(self.metas))


def rows_of_articles(
    articles: Sequence[Article], vectors: dict[int, np.ndarray], words: HashedTfidf, ents: HashedTfidf
) -> CatalogRows:
    metas = [_meta(a) for a in articles]
    return CatalogRows(
        metas=metas,
        dense=np.vstack([vectors[a.id] for a in articles]).astype(np.float32),
        words=words.tf([article_document(a.title, a.body) for a in articles]),
        entities=ents.tf([entity_tokens(a.title, a.body, a.tags or []) for a in articles]),
        days=np.array([to_days(m.published) for m in metas], dtype=np.float64),
        fetched_days=np.array([to_days(a.fetched_at) for a in articles], dtype=np.float64),
        n_words=np.array([len(f"{a.title} {a.body}".split()) for a in articles], dtype=np.int64),
    )


class Catalog:
    def __init__(self, settings: RelatedSettings, dim: int):
        self.settings = settings
        self.dim = dim
        self.ids = np.zeros(0, dtype=np.int64)
        self.groups = np.zeros(0, dtype=np.int64)  # near-duplicate group per row (NO_GROUP: none)
        self.alive = np.zeros(0, dtype=bool)
        self.days = np.zeros(0, dtype=np.float64)  # publish time (days since epoch), NaN when unknown
        self.fetched_days = np.zeros(0, dtype=np.float64)  # when the crawler stored it (stands in for a missing date)
        self.n_words = np.zeros(0, dtype=np.int64)
        self.dense = RowBlocks(np.zeros((0, dim), dtype=np.float32))  # catalog.dense[rows]: those rows' vectors
        self.meta = RowBlocks(EncodedMetas.of([]))  # catalog.meta[row]: an ArticleMeta, decoded on access
        self.words = HashedTfidf(WORD_FEATURES, word_analyzer())
        self.ents = HashedTfidf(ENTITY_FEATURES, identity_analyzer)
        self._sorted_ids = np.zeros(0, dtype=np.int64)  # id → row: sorted ids and their rows, plus a dict of
        self._sorted_rows = np.zeros(0, dtype=np.int64)  # the rows added since (rebuilt past TAIL_POSITIONS)
        self._tail_pos: dict[int, int] = {}
        self._tail = (np.zeros(0, dtype=np.int64),) * 2  # _tail_pos as sorted ids and their rows (one swap)
        self._lock = threading.Lock()
        self.saved_segments: list[dict] = []  # files holding this catalog's first rows (recommender/catalog_files.py)

    def __len__(self) -> int:
        return int(self.alive.sum())

    @property
    def max_id(self) -> int:
        return int(self.ids.max()) if len(self.ids) else 0

    def _position(self, article_id: int) -> int | None:
        r = self._tail_pos.get(article_id)
        if r is not None:
            return r
        ids, rows = self._sorted_ids, self._sorted_rows
        i = int(np.searchsorted(ids, article_id))
        return int(rows[i]) if i < len(ids) and ids[i] == article_id else None

    def row(self, article_id: int) -> int | None:
        r = self._position(int(article_id))
        return r if r is not None and self.alive[r] else None

    def rows_of(self, article_ids: np.ndarray) -> np.ndarray:
        """row() for many ids at once: their rows, -1 where an id is not (or no longer) in the catalog."""
        ids = np.asarray(article_ids, dtype=np.int64)
        out = np.full(len(ids), -1, dtype=np.int64)
        if len(self._sorted_ids):
            i = np.minimum(np.searchsorted(self._sorted_ids, ids), len(self._sorted_ids) - 1)
            found = self._sorted_ids[i] == ids
            out[found] = self._sorted_rows[i[found]]
        hit = out >= 0
        out[hit] = np.where(self.alive[out[hit]], out[hit], -1)
        missing = np.nonzero(out < 0)[0]
        tail_ids, tail_rows = self._tail  # rows added since the sorted arrays were built (a re-added id's old
        if len(missing) and len(tail_ids):  # row is dead, its new one is here)
            j = np.minimum(np.searchsorted(tail_ids, ids[missing]), len(tail_ids) - 1)
            found = tail_ids[j] == ids[missing]
            rows = tail_rows[j[found]]
            out[missing[found]] = np.where(self.alive[rows], rows, -1)
        return out

    def ref(self, row: int) -> ArticleRef:
        """The article at `row` as result lists name it."""
        m = self.meta[row]
        return ArticleRef(m.article_id, m.url, m.title, m.source, m.published)

    def alive_ids(self) -> set[int]:
        return set(self.ids[self.alive].tolist())

    def add(self, articles: Sequence[Article], vectors: dict[int, np.ndarray]) -> list[int]:
        """Append articles (those with a vector); returns their rows. Known ids must be removed first."""
        articles = [a for a in articles if a.id in vectors and self._position(a.id) is None]
        if not articles:
            return []
        return self.add_rows(rows_of_articles(articles, vectors, self.words, self.ents))

    def add_rows(self, rows: "CatalogRows", alive: np.ndarray | None = None) -> list[int]:
        """Append rows already derived (from articles, or mapped from a segment by recommender/catalog_files.py)."""
        n = len(rows.metas)
        alive = np.ones(n, dtype=bool) if alive is None else np.asarray(alive, dtype=bool)
        ids = rows.id_column()
        self.words.append_tf(rows.words, alive, rows.word_df, mapped=rows.mapped)
        self.ents.append_tf(rows.entities, alive, rows.entity_df, mapped=rows.mapped)
        dense = rows.dense if rows.mapped else np.asarray(rows.dense, dtype=np.float32)
        with self._lock:
            start = len(self.ids)
            self.meta.append(EncodedMetas.of(rows.metas), mapped=rows.mapped)
            self.dense.append(dense, mapped=rows.mapped)
            self.alive = np.concatenate([self.alive, alive])
            self.days = np.concatenate([self.days, rows.days])
            self.fetched_days = np.concatenate([self.fetched_days, rows.fetched_days])
            self.n_words = np.concatenate([self.n_words, rows.n_words])
            self.groups = np.concatenate([self.groups, rows.group_column()])
            self.ids = np.concatenate([self.ids, ids])  # last: a reader's row() never runs past the columns
            self._index_positions(start, ids)
        return list(range(start, start + n))

    def _index_positions(self, start: int, ids: np.ndarray) -> None:
        if len(self._tail_pos) + len(ids) <= TAIL_POSITIONS:
            tail = self._tail_pos = {**self._tail_pos, **dict(zip(ids.tolist(), range(start, start + len(ids))))}
            keys = np.fromiter(tail.keys(), dtype=np.int64, count=len(tail))
            order = np.argsort(keys, kind="stable")  # the same map as arrays, for rows_of
            self._tail = (keys[order], np.fromiter(tail.values(), dtype=np.int64, count=len(tail))[order])
            return
        order = np.argsort(self.ids, kind="stable")
        self._sorted_ids, self._sorted_rows = self.ids[order], order.astype(np.int64)
        self._tail_pos = {}
        self._tail = (np.zeros(0, dtype=np.int64),) * 2

    def adopt(self, segments: Sequence["CatalogRows"]) -> None:
        """Serve rows [0, n) from these mapped segments (just saved, holding exactly those rows) from now on."""
        self.dense.replace([s.dense for s in segments])
        self.meta.replace([EncodedMetas.of(s.metas) for s in segments])
        self.words.adopt([s.words for s in segments])
        self.ents.adopt([s.entities for s in segments])

    def rows_between(self, start: int, end: int) -> "CatalogRows":
        """Rows [start, end) as they are kept (removed ones included, their word rows empty)."""
        rows = np.arange(start, end)
        words, ents = self.words.tf_rows(rows), self.ents.tf_rows(rows)
        return CatalogRows(
            metas=self.meta[start:end], dense=self.dense[start:end], words=words, entities=ents,
            days=self.days[start:end], fetched_days=self.fetched_days[start:end], n_words=self.n_words[start:end],
            ids=self.ids[start:end], groups=self.groups[start:end], word_df=self.words.counted_df(words),
            entity_df=self.ents.counted_df(ents),
        )

    def remove(self, ids: Sequence[int]) -> None:
        rows = [r for i in ids if (r := self.row(i)) is not None]
        if not rows:
            return
        self.words.forget(rows)
        self.ents.forget(rows)
        with self._lock:
            alive = self.alive.copy()
            alive[rows] = False
            self.alive = alive

    def news_days(self, rows: np.ndarray) -> np.ndarray:
        """When each row was news: its publish date, else when it was fetched (NaN if neither is known)."""
        days = self.days[rows]
        return np.where(np.isnan(days), self.fetched_days[rows], days)

    # ---- features ------------------------------------------------------------------------------------
    def word_rows(self, rows: np.ndarray) -> sp.csr_matrix:
        """Weighted word rows, computed from the kept tf rows: the weighted matrix is not held beside them."""
        return self.words.weigh_rows(self.words.tf_rows(rows))

    def entity_rows(self, rows: np.ndarray) -> sp.csr_matrix:
        return self.ents.weigh_rows(self.ents.tf_rows(rows))

    def features_of_rows(self, rows: Sequence[int]) -> QueryFeatures:
        rows = np.asarray(rows, dtype=np.int64)
        return QueryFeatures(
            dense=self.dense[rows],
            words=self.word_rows(rows),
            entities=self.entity_rows(rows),
            days=self.days[rows],
            n_words=self.n_words[rows],
        )

    def features_of_text(self, title: str, body: str, dense: np.ndarray, published: datetime | None = None):
        doc = article_document(title, body)
        words = self.words.weigh_rows(self.words.tf([doc]))
        return QueryFeatures(
            dense=np.atleast_2d(dense).astype(np.float32),
            words=words,
            terms=[self.words.term_weights(self.words.analyzer(doc), words)],
            entities=self.ents.weigh_rows(self.ents.tf([entity_tokens(title, body, [])])),
            days=np.array([to_days(published)]),
            entity_names=[_top_entities(title, body)],
            n_words=np.array([len(f"{title} {body}".split())]),
        )

    def distinctive_terms(self, row: int, terms: Sequence[str]) -> list[tuple[str, float]]:
        """(term, current TF-IDF weight in the row), heaviest first: what a stored article queries words with."""
        return self.words.term_weights(terms, self.word_rows(np.asarray([row])))

    def word_documents(self, articles: Sequence[Article], n_terms: int) -> list[tuple[int, list[str], list[str]]]:
        """(article id, tokens, distinctive terms) of articles in the catalog, for the word index (word_index.py)."""
        found = [(a, row) for a in articles if (row := self.row(a.id)) is not None]
        if not found:
            return []
        tokens = [self.words.analyzer(article_document(a.title, a.body)) for a, _ in found]
        ids = self.words.term_ids([t for ts in tokens for t in ts])
        weighted = self.word_rows(np.asarray([row for _, row in found]))
        return [(a.id, ts, [t for t, _ in self.words.term_weights(ts, weighted[i], ids)[:n_terms]])
                for i, ((a, _), ts) in enumerate(zip(found, tokens))]

    def fused(self, q: QueryFeatures, rows: np.ndarray) -> np.ndarray:
        """(m, len(rows)) fused similarity: weighted dense + word + entity cosines, damped by date distance."""
        s = self.settings
        rows = np.asarray(rows, dtype=np.int64)
        dense = q.dense @ self.dense[rows].T
        words = row_cosines(q.words, self.word_rows(rows))
        ents = row_cosines(q.entities, self.entity_rows(rows))
        # A title alone shares few words with anything: lean on the embedding for short queries.
        short = (q.n_words < s.short_text_words)[:, None]
        wd = np.where(short, s.short_dense_weight, s.dense_weight)
        wl = np.where(short, s.short_lexical_weight, s.lexical_weight)
        we = np.where(short, s.short_entity_weight, s.entity_weight)
        sim = wd * dense + wl * words + we * ents
        if s.time_weight > 0:
            gap = np.abs(q.days[:, None] - self.days[rows][None, :])
            decay = np.where(np.isnan(gap), 1.0, 0.5 ** (np.nan_to_num(gap) / s.time_half_life_days))
            sim = sim * ((1.0 - s.time_weight) + s.time_weight * decay)
        return sim


def _top_entities(title: str, body: str, n: int = 12) -> tuple[str, ...]:
    counts = Counter(extract_entities(f"{title}.\n{body}"))
    for e in extract_entities(title):
        counts[e] += 2  # names in the title are what the article is about
    return tuple(e for e, _ in counts.most_common(n))


def _meta(a: Article) -> ArticleMeta:
    return ArticleMeta(
        article_id=a.id,
        url=a.url,
        title=a.title,
        source=a.source_name,
        published=a.published_at,
        group=a.near_dup_group,
        tags=tuple(a.tags or ()),
        entities=_top_entities(a.title, a.body),
    )
