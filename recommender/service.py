"""RelatedService: the one object the CLI, the API and the dashboard use for related articles, search and stories.

Readers (related/search/story) run concurrently; index updates take the write side of a readers-writer lock
and, across processes, a file lock in the snapshot directory. A process that did not write the newest snapshot
picks it up on its next request (`refresh`, one small file read).
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from filelock import FileLock

from newsagg.config import Settings, get_settings
from newsagg.store import Store
from newsagg.urls import canonical_url
from recommender.catalog import Catalog
from recommender.catalog_files import CatalogFiles
from recommender.embed import Embedder, article_text
from recommender.index import VectorIndex, choose_kind, load_latest, snapshot_version
from recommender.related import RelatedItem, RelatedRanker, Scored
from recommender.related_lists import RelatedListStore, ranked_lists
from recommender.search import MODES, SearchHit, fuse_rankings, keyword_ranking, semantic_ranking, to_hits
from recommender.stories import StoryBook, StoryInfo
from recommender.vectors import VectorRepository
from recommender.word_index import WordIndex

__all__ = ["RelatedItem", "RelatedService", "SearchHit", "StoryInfo", "UpdateStats"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpdateStats:
    added: int
    removed: int
    embedded: int
    reused: int
    stories_touched: int
    version: int
    total: int
    seconds: float
    lists_written: int = 0  # materialized related lists (new articles + older ones they entered)


class _ReadWriteLock:
    """Many readers or one writer (writers are not starved: new readers wait while one is queued)."""

    def __init__(self):
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0

    @contextmanager
    def read(self):
        with self._cond:
            while self._writer or self._waiting_writers:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self):
        with self._cond:
            self._waiting_writers += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting_writers -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class RelatedService:
    def __init__(self, store: Store, settings: Settings | None = None, embedder: Embedder | None = None):
        self.store = store
        self.settings = settings or get_settings()
        self.snapshot_dir = Path(self.settings.index.snapshot_dir or self.settings.data_dir / "index")
        self.embedder = embedder or Embedder(self.settings.embedding, cache_dir=self.settings.data_dir)
        self.vectors = VectorRepository(store, self.embedder)
        self.ranker = RelatedRanker(self.settings.related)
        self.lists = RelatedListStore(store, self.model_key)
        self.stories_book = StoryBook(store, self.settings.related)
        self.catalog_files = (
            CatalogFiles(self.snapshot_dir, keep=self.settings.index.keep_snapshots)
            if self.settings.index.save_catalog else None
        )
        self._rw = _ReadWriteLock()
        self._words: WordIndex | None = None
        self._catalog: Catalog | None = None
        self._index: VectorIndex | None = None
        self._version = 0
        self._checked_at = 0.0
        self._reload_lock = threading.Lock()  # one snapshot load at a time; readers never wait for it

    # ---- state ---------------------------------------------------------------------------------------
    @property
    def model_key(self) -> str:
        return self.embedder.info.key

    @property
    def version(self) -> int:
        return self._version

    @property
    def words(self) -> WordIndex:
        """The word index beside the snapshots (opened on first use: a fresh directory may not exist yet)."""
        if self._words is None:
            self._words = WordIndex(self.snapshot_dir / "words")
        return self._words

    def _empty_state(self) -> tuple[Catalog, VectorIndex]:
        dim = self.embedder.info.dim
        return Catalog(self.settings.related, dim), VectorIndex.create(self.model_key, dim, self.settings.index)

    def _read_latest(self) -> tuple[Catalog, VectorIndex, int]:
        """Latest snapshot (if it is of this model) + catalog rows for its articles: those saved beside the
        snapshot, and whatever they lack from the store."""
        index = load_latest(self.snapshot_dir, self.settings.index)
        if index is None or index.model != self.model_key:
            catalog, index = self._empty_state()
            return catalog, index, 0
        live = index.ids()
        catalog = None
        if self.catalog_files is not None:
            catalog = self.catalog_files.load(index.meta.version, self.model_key, live, self.settings.related)
        if catalog is None or catalog.dim != index.meta.dim:
            catalog = Catalog(self.settings.related, index.meta.dim)
        self._fill_catalog(catalog, sorted(live - catalog.alive_ids()), index)
        return catalog, index, index.meta.version

    def _load(self) -> None:
        self._catalog, self._index, self._version = self._read_latest()

    def _fill_catalog(self, catalog: Catalog, ids: list[int], index: VectorIndex | None) -> None:
        for i in range(0, len(ids), 1000):
            chunk = ids[i : i + 1000]
            arts = self.store.articles_by_ids(chunk)
            stored = self.vectors.load(chunk)
            vecs = {aid: v for aid, (_, v) in stored.items()}
            for aid in chunk:  # vector rows lost from the table: the index still has them (maybe quantised)
                if aid not in vecs and index is not None and aid in arts:
                    vecs[aid] = index.vector(aid)
            catalog.add([arts[a] for a in chunk if a in arts], vecs)

    def _ensure(self) -> tuple[Catalog, VectorIndex]:
        if self._catalog is None:
            with self._rw.write():
                if self._catalog is None:
                    self._load()
        return self._catalog, self._index

    def refresh(self, min_interval: float = 1.0) -> bool:
        """Reload when another process published a newer snapshot; True if it did."""
        now = time.monotonic()
        if self._catalog is not None and now - self._checked_at < min_interval:
            return False
        self._checked_at = now
        if self._catalog is not None and snapshot_version(self.snapshot_dir) <= self._version:
            return False
        if self._catalog is None:
            with self._rw.write():
                before = self._version
                self._load()
            self.words.reload()
            return self._version != before
        # Build the new state beside the current one, so readers keep being served (by the old snapshot) while
        # it loads; the write lock is held only to swap references. Whoever finds a load under way moves on.
        if not self._reload_lock.acquire(blocking=False):
            return False
        try:
            catalog, index, version = self._read_latest()
            with self._rw.write():
                if version <= self._version:  # an update_index() here got further meanwhile
                    return False
                self._catalog, self._index, self._version = catalog, index, version
            self.words.reload()
            return True
        finally:
            self._reload_lock.release()

    # ---- writing -------------------------------------------------------------------------------------
    def update_index(self) -> UpdateStats:
        """Embed and add new articles, drop deleted ones, assign stories, publish a snapshot."""
        t0 = time.perf_counter()
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.snapshot_dir / ".write.lock")):
            self.refresh(min_interval=0.0)
            catalog, index = self._ensure()
            with self._rw.write():
                stats = self._update(catalog, index)
            return UpdateStats(**stats, total=len(self._index), seconds=round(time.perf_counter() - t0, 3))

    def _update(self, catalog: Catalog, index: VectorIndex) -> dict:
        store_ids = self.store.article_ids()
        indexed = index.ids()
        gone = sorted(indexed - store_ids)
        new = sorted(store_ids - indexed)
        index.remove(gone)
        catalog.remove(gone)
        self.words.replace([], remove=gone)
        self._sync_words(catalog, index)
        embedded = reused = touched = 0
        for i in range(0, len(new), 1000):
            chunk = new[i : i + 1000]
            arts = self.store.articles_by_ids(chunk)
            vecs, st = self.vectors.ensure(arts.values(), self.settings.embedding.lead_words)
            embedded, reused = embedded + st.embedded, reused + st.reused
            ids = np.asarray(sorted(vecs), dtype=np.int64)
            index.add(ids, np.vstack([vecs[a] for a in ids]) if len(ids) else np.zeros((0, catalog.dim)))
            catalog.add([arts[a] for a in ids], vecs)
            self.words.replace(catalog.word_documents([arts[a] for a in ids], self.settings.related.query_terms))
            touched += self.stories_book.update(catalog, chunk)
        if choose_kind(self.settings.index, len(index)) != index.kind or len(index.meta.removed) > len(index) // 10:
            index = self._reindex(catalog)  # crossed the HNSW threshold, or too many tombstones
        # Lists before the snapshot: a reader of the new snapshot finds them; one still on the old snapshot drops
        # the entries it does not hold yet (and a crash here leaves those articles new, so they are redone).
        lists = self._materialize(catalog, index, new, gone, self._version + 1)
        version = index.save(self.snapshot_dir) if (new or gone or not self._version) else self._version
        if version != self._version and self.catalog_files is not None:
            self._save_catalog(catalog, version)
        self._index, self._version = index, version
        return dict(added=len(new), removed=len(gone), embedded=embedded, reused=reused,
                    stories_touched=touched, version=version, lists_written=lists)

    def _materialize(self, catalog: Catalog, index: VectorIndex, new: list[int], gone: list[int], version: int) -> int:
        """Related lists of the new articles and of the older ones they enter (the API's longest list counts)."""
        s = self.settings.related
        self.lists.remove(gone)
        if not s.materialize or not new:
            return 0
        position = min(max(s.limit, self.settings.api.max_limit), s.materialized_length) - 1
        return self.lists.put(version, ranked_lists(self.ranker, catalog, index, self.words, new,
                                                     s.materialized_length, lambda a: self.lists.floor(a, position)))

    def _sync_words(self, catalog: Catalog, index: VectorIndex) -> None:
        """Make the word index hold exactly the indexed articles (first start after an upgrade, or an update that
        died between the word index's commit and the snapshot's)."""
        if len(self.words) == len(index):
            return
        have, want = self.words.ids(), index.ids()
        self.words.replace([], remove=sorted(have - want))
        missing = sorted(want - have)
        for i in range(0, len(missing), 1000):
            arts = self.store.articles_by_ids(missing[i : i + 1000])
            self.words.replace(catalog.word_documents(list(arts.values()), self.settings.related.query_terms))

    def _save_catalog(self, catalog: Catalog, version: int) -> None:
        try:
            self.catalog_files.save(catalog, version, self.model_key)
        except OSError as exc:  # only a start-up cache: the next start derives the rows from the store instead
            log.warning("could not save the catalog beside snapshot %s: %s", version, exc)

    def _reindex(self, catalog: Catalog) -> VectorIndex:
        rows = np.nonzero(catalog.alive)[0]
        ids = catalog.ids[rows]
        return VectorIndex.build(self.model_key, ids, catalog.dense[rows], self.settings.index)

    def rebuild(self) -> UpdateStats:
        """Everything from the store: index, catalog and stories (stored vectors reused when text is unchanged)."""
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.snapshot_dir / ".write.lock")), self._rw.write():
            self._catalog, self._index = self._empty_state()
            self._version = snapshot_version(self.snapshot_dir)
            self.stories_book.clear()
            self.words.clear()
            self.lists.clear()
        return self.update_index()

    # ---- reading -------------------------------------------------------------------------------------
    def related(
        self,
        article_id: int | None = None,
        *,
        url: str | None = None,
        title: str | None = None,
        body: str = "",
        limit: int | None = None,
        materialized: bool = True,
    ) -> list[RelatedItem]:
        """Related articles for a stored article (by id or URL) or for free text; [] when nothing is close enough.

        A stored, indexed article is answered from its materialized list when there is one (`materialized=False`
        ranks it live, as the list was computed)."""
        self.refresh()
        catalog, index = self._ensure()
        article = None
        if article_id is None and url is not None:
            article = self.store.article_by_url(canonical_url(url)) or self.store.article_by_url(url)
            if article is None:
                raise KeyError(f"unknown article URL {url!r}")
            article_id = article.id
        with self._rw.read():
            row = catalog.row(article_id) if article_id is not None else None
            if row is not None:
                scored = self._stored_ranking(catalog, article_id) if materialized else None
                if scored is None:
                    scored = self.ranker.rank_row(catalog, index, self.words, row)
                return self._present_row(catalog, row, scored, limit)
            if article_id is not None:  # stored but not indexed yet: rank it as text
                article = article or self.store.get_article(article_id)
                if article is None:
                    raise KeyError(f"unknown article id {article_id}")
                title, body = article.title, article.body
            if not (title or body):
                raise ValueError("related() needs an article id, a URL, or a title/body")
            text = article_text(title or "", body, self.settings.embedding.lead_words)
            published = article.published_at if article is not None else None
            q = catalog.features_of_text(title or "", body, self.embedder.encode([text]), published)
            group, tags = (article.near_dup_group, tuple(article.tags or ())) if article else (None, ())
            scored = self.ranker.rank(catalog, index, self.words, q, None, group)
            return self.ranker.present(catalog, scored, q.entity_names[0], tags, limit=limit)

    def stored_related(self, article_id: int, limit: int | None = None) -> list[RelatedItem] | None:
        """related(article_id) from its materialized list alone; None when it has none (not indexed yet, or no
        list): then ask related(). One read (on the calling thread's own driver connection) and a greedy walk, no
        ranking and no snapshot check (refresh() may load a snapshot; the API's loader refreshes in the
        background): made for the API's event loop."""
        catalog, _ = self._ensure()
        with self._rw.read():
            row = catalog.row(article_id)
            scored = self._stored_ranking(catalog, article_id, direct=True) if row is not None else None
            return None if scored is None else self._present_row(catalog, row, scored, limit)

    def _present_row(self, catalog: Catalog, row: int, scored: list[Scored], limit: int | None) -> list[RelatedItem]:
        meta = catalog.meta[row]
        return self.ranker.present(catalog, scored, meta.entities, meta.tags, limit=limit)

    def _stored_ranking(self, catalog: Catalog, article_id: int, direct: bool = False) -> list[Scored] | None:
        """The article's materialized ranking, minus entries this catalog does not hold; None if there is none."""
        stored = self.lists.get(article_id, direct=direct)
        if stored is None:
            return None
        e = stored.entries
        rows = catalog.rows_of(e["article_id"])
        keep = rows >= 0
        return list(map(Scored, rows[keep].tolist(), e["score"][keep].tolist(), e["direct"][keep].tolist()))

    def search(self, query: str, mode: str = "hybrid", limit: int = 10) -> list[SearchHit]:
        """Keyword (TF-IDF), semantic (embedding) or hybrid (reciprocal rank fusion of both) search."""
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r} ({' | '.join(MODES)})")
        if not query.strip():
            return []
        self.refresh()
        catalog, index = self._ensure()
        pool = max(limit * 4, 50)
        qvec = self.embedder.encode([query]) if mode != "keyword" else None
        with self._rw.read():
            if mode == "keyword":
                ranking = keyword_ranking(catalog, self.words, query, pool)
            elif mode == "semantic":
                ranking = semantic_ranking(catalog, index, qvec, pool)
            else:
                ranking = fuse_rankings(keyword_ranking(catalog, self.words, query, pool),
                                        semantic_ranking(catalog, index, qvec, pool))
            return to_hits(catalog, ranking, mode, limit)

    def keyword_ids(self, query: str, limit: int) -> list[int]:
        """Ids of the indexed articles best matching a keyword query, from the word index (syntax-free)."""
        self.refresh()
        catalog, _ = self._ensure()
        with self._rw.read():
            return [catalog.meta[r].article_id for r, _ in keyword_ranking(catalog, self.words, query, limit)]

    def story(self, article_id: int) -> StoryInfo | None:
        """The story an article belongs to (None until it has been indexed)."""
        story_id = self.stories_book.story_of(article_id)
        return self.stories_book.info(story_id) if story_id is not None else None

    def story_by_id(self, story_id: int) -> StoryInfo | None:
        """One story with its articles, by story id (the dashboard's story page); None if it no longer exists."""
        return self.stories_book.info(story_id)

    def stories(self, since: datetime | None = None, min_size: int = 2, limit: int = 50) -> list[StoryInfo]:
        """Stories with at least `min_size` articles, most recently active first."""
        return self.stories_book.list(since=since, min_size=min_size, limit=limit)

    def story_assignments(self) -> dict[int, int]:
        """article id → story id, for every assigned article (benchmarks, exports)."""
        return self.stories_book.assignments()

    def story_labels(self, min_size: int = 2) -> dict[int, tuple[int, str]]:
        """article id → (story id, label) of every member of a story of at least `min_size` articles (the map)."""
        return self.stories_book.repo.labels(min_size)

    def newest_vectors(self, limit: int) -> list[tuple[int, np.ndarray]]:
        """(article id, stored vector of this model) of the `limit` newest embedded articles, newest first."""
        return self.vectors.newest(limit)

    def index_info(self) -> dict:
        catalog, index = self._ensure()
        return {"model": index.model, "kind": index.kind, "count": len(index), "version": self._version,
                "dir": str(self.snapshot_dir)}
