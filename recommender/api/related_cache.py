"""Related lists by article id, computed once per index version and then served from memory.

Why: at 100k articles one list costs tens of milliseconds (word TF-IDF against every article, FAISS, fused
re-scoring), yet it is the same for every reader until the index changes, and a widget on a busy page asks for
it constantly. A list is presented at the limit asked for and answers any shorter one (presentation is greedy, so
a shorter list is a prefix of a longer one); a longer ask presents it again. Each is tagged with the index version
that produced it.

After a snapshot swap an older list is still served, saying which version it came from, while one background
worker recomputes it: a swap never turns the hottest pages into the slowest. Concurrent misses for one article
share one computation.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from newsagg.refs import ArticleRef
from recommender.related import RelatedItem

log = logging.getLogger(__name__)
RENDERED_VARIANTS = 4  # (format, limit, min_score) variants kept per list; widgets use one or two
MAX_PENDING_REFRESHES = 10_000
ENTRY_OVERHEAD = 600  # bytes of a RelatedList and its dict/OrderedDict slots, beyond its strings
ITEM_OVERHEAD = 450  # bytes of one RelatedItem (its fields' dict, score, date, list), beyond its strings


def approx_bytes(items: tuple[RelatedItem, ...], copies: tuple[ArticleRef, ...]) -> int:
    """What a list holds in memory, near enough to bound the cache by (strings counted by length)."""
    size = ENTRY_OVERHEAD
    for i in items:
        size += ITEM_OVERHEAD + len(i.url) + len(i.title) + len(i.reason) + len(i.source)
        size += sum(ITEM_OVERHEAD // 2 + len(a.url) + len(a.source) for a in i.also_in)
    return size + sum(ITEM_OVERHEAD // 2 + len(c.url) + len(c.source) for c in copies)


@dataclass
class RelatedList:
    """One article's related results at the longest limit, as one index version ranked them."""

    article_id: int
    version: int
    model: str
    items: tuple[RelatedItem, ...]
    copies: tuple[ArticleRef, ...]
    limit: int  # presented at this limit: it answers any limit up to it (all of them, if it holds fewer items)
    rendered: dict[Hashable, bytes] = field(default_factory=dict, repr=False)
    resized: Callable[["RelatedList", int], None] | None = field(default=None, repr=False)  # set by the cache

    def covers(self, limit: int) -> bool:
        return limit <= self.limit or len(self.items) < self.limit

    @property
    def nbytes(self) -> int:
        return approx_bytes(self.items, self.copies) + sum(len(b) + 100 for b in self.rendered.values())

    def render(self, key: Hashable, build: Callable[[], bytes]) -> bytes:
        """The encoded response for one variant, built once (encoding is most of a cached request's cost)."""
        out = self.rendered.get(key)
        if out is None:
            before = self.nbytes
            if len(self.rendered) >= RENDERED_VARIANTS:
                self.rendered.clear()
            out = self.rendered[key] = build()
            if self.resized is not None:
                self.resized(self, self.nbytes - before)
        return out


class RelatedLists:
    """An LRU of RelatedList by article id, bounded in bytes (lists and their rendered bodies), with
    stale-while-revalidate across index versions. With materialized lists a miss is a read, not a ranking, so the
    cache only saves the encoding: a few MB hold the hot set."""

    def __init__(self, compute: Callable[[int, int], RelatedList], current_version: Callable[[], int],
                 max_bytes: int, read: Callable[[int, int], RelatedList | None] | None = None):
        self._compute = compute
        self._read = read  # the cheap miss (a materialized list), run inline; None from it: compute in a thread
        self._current_version = current_version
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._entries: OrderedDict[int, RelatedList] = OrderedDict()
        self._lock = threading.Lock()
        self._inflight: dict[tuple[int, int], asyncio.Task] = {}
        self._pending: set[int] = set()
        self._worker: ThreadPoolExecutor | None = None
        self.hits = self.misses = self.stale = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, article_id: int, limit: int) -> RelatedList:
        """The article's list, presented at `limit` or longer; raises KeyError for an article the store does not
        have."""
        entry = self.lookup(article_id)
        if entry is not None and entry.covers(limit):
            return entry
        if entry is not None:
            limit = max(limit, entry.limit)  # a longer ask replaces the entry: it answers both from now on
        if self._read is not None:
            # On the event loop: a materialized list is two indexed reads and a greedy walk (well under a
            # millisecond), cheaper than the hop to a worker thread and the GIL handovers it costs under load.
            entry = self._read(article_id, limit)
            if entry is not None:
                return self._keep(entry)
        loop = asyncio.get_running_loop()
        key = (article_id, limit)
        task = self._inflight.get(key)
        if task is None or task.get_loop() is not loop:
            task = loop.create_task(run_in_threadpool(self._compute_and_keep, article_id, limit))
            self._inflight[key] = task
            task.add_done_callback(lambda t, k=key: self._settled(k, t))
        # shield: a client hanging up must not cancel the computation others are waiting for
        return await asyncio.shield(task)

    def lookup(self, article_id: int) -> RelatedList | None:
        with self._lock:
            entry = self._entries.get(article_id)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(article_id)
        if entry.version != self._current_version():
            self.stale += 1
            self._refresh_later(article_id, entry.limit)
        else:
            self.hits += 1
        return entry

    def forget(self, article_id: int) -> None:
        with self._lock:
            self._drop(self._entries.pop(article_id, None))

    def _drop(self, entry: RelatedList | None) -> None:
        if entry is not None:
            entry.resized = None
            self.nbytes -= entry.nbytes

    def _resized(self, entry: RelatedList, delta: int) -> None:
        with self._lock:
            if self._entries.get(entry.article_id) is entry:
                self.nbytes += delta
                self._evict()

    def _evict(self) -> None:
        while self.nbytes > self.max_bytes and self._entries:
            self._drop(self._entries.popitem(last=False)[1])

    def close(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=False, cancel_futures=True)
            self._worker = None

    # ---- internals -----------------------------------------------------------------------------------
    def _settled(self, key: tuple[int, int], task: asyncio.Task) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so an abandoned failure is not logged as "never retrieved"

    def _compute_and_keep(self, article_id: int, limit: int) -> RelatedList:
        return self._keep(self._compute(article_id, limit))

    def _keep(self, entry: RelatedList) -> RelatedList:
        article_id = entry.article_id
        if self.max_bytes > 0:
            with self._lock:
                self._drop(self._entries.pop(article_id, None))
                self._entries[article_id] = entry
                self.nbytes += entry.nbytes
                entry.resized = self._resized
                self._evict()
        return entry

    def _refresh_later(self, article_id: int, limit: int) -> None:
        with self._lock:
            if article_id in self._pending or len(self._pending) >= MAX_PENDING_REFRESHES:
                return
            self._pending.add(article_id)
            if self._worker is None:
                # one worker: recomputation yields the CPU to requests instead of competing with them
                self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="related-refresh")
            worker = self._worker
        try:
            worker.submit(self._refresh, article_id, limit)
        except RuntimeError:  # shut down meanwhile
            with self._lock:
                self._pending.discard(article_id)

    def _refresh(self, article_id: int, limit: int) -> None:
        try:
            self._compute_and_keep(article_id, limit)
        except KeyError:
            self.forget(article_id)  # gone from the store: the next request answers 404
        except Exception:
            log.exception("recomputing related list of article %s failed; the older one stays", article_id)
        finally:
            with self._lock:
                self._pending.discard(article_id)
