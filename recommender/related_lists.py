"""Materialized related lists (table `related_lists`): an article's ranking is computed when it is indexed and kept,
so a lookup by id or by known URL is one primary-key read plus presentation, not a ranking.

What is kept is the ranker's scored list (the first `materialized_length` candidates, best first), not the
presented one: presentation (threshold, near-duplicate collapse, source cap, limit) is a cheap greedy walk and is
redone at read time, so one stored list serves every limit and min_score. Entries are packed numpy records
(never pickle). A reader drops entries its index no longer holds, so a list written by an update that died before
publishing its snapshot, or that names a since-deleted article, never points at a missing article.

Maintenance (RelatedService._update): new articles get their lists; an older article whose stored list a new one
scores into (the new one's score for it at least that list's `floor` entry) gets its list recomputed, in the same
update, before the snapshot is published. Only the new article's best candidates are checked: this leans on the
ranking being close to symmetric (if X ranks Y high, Y ranks X high), which keeps maintenance proportional to the
arrivals, not to N.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import bindparam, delete, insert, select

from newsagg.models import RelatedListRow
from newsagg.store import Store
from recommender.catalog import Catalog
from recommender.index import VectorIndex
from recommender.related import RelatedRanker, Scored
from recommender.word_index import WordIndex

ENTRY = np.dtype([("article_id", "<i8"), ("score", "<f4"), ("direct", "<f4")])
WRITE_BATCH = 2000


@dataclass(frozen=True)
class StoredList:
    article_id: int
    index_version: int
    entries: np.ndarray  # ENTRY records, best first


def pack(article_ids: Sequence[int], scores: Sequence[float], directs: Sequence[float]) -> bytes:
    out = np.empty(len(article_ids), dtype=ENTRY)
    out["article_id"], out["score"], out["direct"] = article_ids, scores, directs
    return out.tobytes()


def pack_scored(catalog: Catalog, scored: Sequence[Scored]) -> bytes:
    return pack([catalog.meta[s.row].article_id for s in scored], [s.score for s in scored], [s.direct for s in scored])


def ranked_lists(
    ranker: RelatedRanker, catalog: Catalog, index: VectorIndex, words: WordIndex, new_ids: Sequence[int],
    length: int, floor_of: Callable[[int], float] | None = None, check: int = 20,
) -> Iterator[tuple[int, bytes]]:
    """(article id, packed list) of the new articles, then of the older articles a new one may have entered: among
    the new one's `check` best candidates (close enough to be shown), those whose stored list it scores into
    (`floor_of(id)`: the score a newcomer must reach). Each is ranked once,
    live, against the current index."""
    new, affected = set(new_ids), {}
    min_score = ranker.settings.min_score
    for aid in new_ids:
        row = catalog.row(aid)
        if row is None:
            continue
        scored = ranker.rank_row(catalog, index, words, row)
        yield aid, pack_scored(catalog, scored[:length])
        if floor_of is None:
            continue
        for item in scored[:check]:
            other = catalog.meta[item.row].article_id
            if other not in new and other not in affected and item.direct >= min_score \
                    and item.score >= floor_of(other):
                affected[other] = None
    for aid in affected:
        if (row := catalog.row(aid)) is not None:
            yield aid, pack_scored(catalog, ranker.rank_row(catalog, index, words, row)[:length])


def unpack(blob: bytes) -> np.ndarray:
    if len(blob) % ENTRY.itemsize:
        raise ValueError(f"related list of {len(blob)} bytes is not a whole number of entries")
    return np.frombuffer(blob, dtype=ENTRY)


class RelatedListStore:
    """Reads and writes one model's lists."""

    def __init__(self, store: Store, model: str):
        self.store = store
        self.model = model
        self._table = t = RelatedListRow.__table__
        # Built once: building and cache-keying a statement per call cost more than the read itself on SQLite
        self._get = select(t.c.index_version, t.c.entries).where(
            t.c.article_id == bindparam("article_id"), t.c.model == bindparam("model"))

    def get(self, article_id: int, *, direct: bool = False) -> StoredList | None:
        """The article's list, or None when none was materialized (or it is unreadable: then rank live).
        `direct`: on this thread's own driver connection (the API's event loop; newsagg/driver_reads.py)."""
        params = {"article_id": article_id, "model": self.model}
        if direct:
            rows = self.store.direct.all(self._get, params)
        else:
            with self.store.engine.connect() as conn:  # Core, no ORM session: this is the hot read path
                rows = conn.execute(self._get, params).all()
        if not rows:
            return None
        index_version, entries = rows[0]
        try:
            return StoredList(article_id, index_version, unpack(bytes(entries)))
        except ValueError:
            return None

    def floor(self, article_id: int, position: int) -> float:
        """The score at `position` in the article's stored list: what a newcomer must reach to enter its first
        position + 1 (-inf when the list is shorter; +inf when there is none: that article is ranked live)."""
        stored = self.get(article_id)
        if stored is None:
            return float("inf")
        if len(stored.entries) <= position:
            return float("-inf")
        return float(stored.entries["score"][position])

    def put(self, version: int, lists: Iterable[tuple[int, bytes]]) -> int:
        """Replace the lists of these articles (delete + insert: portable across SQLite and PostgreSQL)."""
        t, n, batch = self._table, 0, []
        for item in lists:
            batch.append(item)
            if len(batch) >= WRITE_BATCH:
                n += self._write(t, version, batch)
                batch = []
        return n + (self._write(t, version, batch) if batch else 0)

    def _write(self, t, version: int, batch: list[tuple[int, bytes]]) -> int:
        ids = [aid for aid, _ in batch]
        with self.store.engine.begin() as conn:
            conn.execute(delete(t).where(t.c.model == self.model, t.c.article_id.in_(ids)))
            conn.execute(insert(t), [
                {"article_id": aid, "model": self.model, "index_version": version, "entries": blob}
                for aid, blob in batch
            ])
        return len(batch)

    def remove(self, article_ids: Sequence[int]) -> None:
        t, ids = self._table, list(article_ids)
        for i in range(0, len(ids), WRITE_BATCH):
            with self.store.engine.begin() as conn:
                conn.execute(delete(t).where(t.c.model == self.model, t.c.article_id.in_(ids[i : i + WRITE_BATCH])))

    def clear(self) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(delete(self._table).where(self._table.c.model == self.model))

    def count(self) -> int:
        from sqlalchemy import func

        with self.store.engine.connect() as conn:
            return int(conn.execute(
                select(func.count()).select_from(self._table).where(self._table.c.model == self.model)).scalar())
