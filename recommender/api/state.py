"""What the API serves from: the store, the shared RelatedService, readiness, and the index watcher.

The store and the index load in a background thread, so the process answers /livez at once and /readyz (and
every index-backed route) says 503 until they are there. The same thread then watches for snapshots that
`newsagg index` publishes and lets the service swap to them (see RelatedService.refresh: the new snapshot loads
beside the current one; requests in flight finish on the old one and are never blocked).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from newsagg.config import Settings
from newsagg.store import Store
from newsagg.urls import canonical_url, is_http_url
from recommender.api.convert import copy_of, related_article, versioned
from recommender.api.problems import ApiProblem, not_ready
from recommender.api.related_cache import RelatedList, RelatedLists
from recommender.index import snapshot_version
from recommender.service import RelatedService

log = logging.getLogger(__name__)
OPEN_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class IndexStamp:
    """The loaded snapshot, as /readyz and /metrics report it."""

    version: int
    model: str
    kind: str
    count: int


class ApiState:
    def __init__(self, settings: Settings, service: RelatedService | None = None):
        self.settings = settings
        self.limits = settings.api
        self.service = service
        self.store: Store | None = service.store if service is not None else None
        self.stamp: IndexStamp | None = None
        self.waiting_for = "the store and the index are loading"
        self.swaps = 0
        self.load_seconds = 0.0
        self._bad_version, self._bad_wait, self._bad_retry_at = 0, 0.0, 0.0  # see _note_bad_snapshot
        self.related = RelatedLists(self._compute_related, self._version, self.limits.related_cache_bytes)
        self._url_ids: OrderedDict[str, int] = OrderedDict()
        self._url_lock = threading.Lock()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Start loading and watching (again after a stop; a second start while running is a no-op)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="api-index-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            # short: a load in progress cannot be interrupted, and the thread is a daemon that ends with the process
            self._thread.join(timeout=5)
        self.related.close()

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def _run(self) -> None:
        if self.stamp is None and not self._open():
            return
        while not self._stop.wait(self.limits.refresh_interval):
            self.check_for_snapshot()

    def _open(self) -> bool:
        """Store, service and the current snapshot; retried until they load (e.g. the database is not up yet)."""
        while not self._stop.is_set():
            try:
                t0 = time.perf_counter()
                if self.store is None:
                    self.store = Store.from_settings(self.settings)
                if self.service is None:
                    self.service = RelatedService(self.store, self.settings)
                self._set_stamp(self.service.index_info())
                self.load_seconds = time.perf_counter() - t0
                return True
            except Exception as exc:
                log.exception("opening the store and index failed; retrying in %.0fs", OPEN_RETRY_SECONDS)
                self.waiting_for = f"the store and index could not be opened ({type(exc).__name__})"
                self._stop.wait(OPEN_RETRY_SECONDS)
        return False

    def check_for_snapshot(self) -> bool:
        """Swap to a newer published snapshot if there is one (cheap when there is not: one small file read)."""
        published = snapshot_version(self.service.snapshot_dir)
        if published == self._bad_version and time.monotonic() < self._bad_retry_at:
            return False  # a snapshot that failed to load is not re-read (a whole index) every interval
        try:
            t0 = time.perf_counter()
            # min_interval=0: this thread is the one that polls; it also keeps request threads from doing so
            if not self.service.refresh(min_interval=0.0):
                return False
            self.load_seconds = time.perf_counter() - t0
            self.swaps += 1
            self._set_stamp(self.service.index_info())
            log.info("now serving index snapshot %s (%s articles, loaded in %.1fs)",
                     self.stamp.version if self.stamp else 0, self.stamp.count if self.stamp else 0,
                     self.load_seconds)
            return True
        except Exception:
            self._note_bad_snapshot(published)
            return False

    def _note_bad_snapshot(self, version: int) -> None:
        """Back off from a snapshot that failed to load, doubling the wait up to a cap; logged once per version
        (a newer version, usually a good one, is tried at once)."""
        if version != self._bad_version:
            log.exception("index snapshot %s could not be loaded; still serving the current one "
                          "(retried with backoff, at most every %.0fs)", version, self.limits.bad_snapshot_backoff)
            self._bad_version, self._bad_wait = version, self.limits.refresh_interval
        else:
            self._bad_wait = min(self._bad_wait * 2, self.limits.bad_snapshot_backoff)
        self._bad_retry_at = time.monotonic() + self._bad_wait

    def _set_stamp(self, info: dict) -> None:
        # The loaded catalog and model are hundreds of thousands of long-lived objects (~350 ms per full
        # collection at 100k articles, a pause of every request). Frozen, the collector skips them; a swapped-out
        # snapshot is still freed by reference counting (measured: flat memory over swaps, ~30 cyclic leftovers).
        gc.freeze()
        if info["version"] > 0:
            self.stamp = IndexStamp(info["version"], info["model"], info["kind"], info["count"])
            self._ready.set()
        else:
            self.waiting_for = "no index snapshot of this model yet: run `newsagg index`"

    def _version(self) -> int:
        return self.service.version if self.service is not None else 0

    # ---- request-side helpers ------------------------------------------------------------------------
    def require_store(self) -> Store:
        if self.store is None:
            raise not_ready(f"not ready: {self.waiting_for}")
        return self.store

    def require_index(self) -> IndexStamp:
        stamp = self.stamp
        if stamp is None or self.service is None:
            raise not_ready(f"not ready: {self.waiting_for}")
        return stamp

    async def related_list(self, article_id: int) -> RelatedList:
        try:
            return await self.related.get(article_id)
        except KeyError:
            raise ApiProblem(404, f"no article with id {article_id}") from None

    async def related_list_for_url(self, url: str) -> RelatedList:
        """The related list of the stored article at this URL (canonicalised first, as the crawler stores it)."""
        canonical = self._canonical(url)
        with self._url_lock:
            article_id = self._url_ids.get(canonical)
        if article_id is None:
            store = self.require_store()
            article = await run_in_threadpool(lambda: store.article_by_url(canonical) or store.article_by_url(url))
            if article is None:
                raise ApiProblem(404, "no stored article has this URL")
            article_id = article.id
            with self._url_lock:  # a URL keeps its id, so only the size bounds this map
                self._url_ids[canonical] = article_id
                while len(self._url_ids) > max(self.limits.related_cache_size, 1):
                    self._url_ids.popitem(last=False)
        try:
            return await self.related.get(article_id)
        except KeyError:  # deleted since: forget the mapping too (the URL may come back under a new id)
            with self._url_lock:
                self._url_ids.pop(canonical, None)
            raise ApiProblem(404, "no stored article has this URL") from None

    @staticmethod
    def _canonical(url: str) -> str:
        # Not an http(s) URL (or not parseable, e.g. a port out of range): certainly no stored article's URL.
        try:
            if is_http_url(url):
                return canonical_url(url)
        except ValueError:
            pass
        raise ApiProblem(404, "no stored article has this URL (an absolute http(s) URL is expected)")

    def _compute_related(self, article_id: int) -> RelatedList:
        store, service = self.require_store(), self.service
        article = store.get_article(article_id, with_raw_html=False)
        if article is None:
            raise KeyError(article_id)
        group = article.near_dup_group
        copies = [copy_of(a) for a in store.group_members(group) if a.id != article_id] if group is not None else []

        def rank() -> list:
            try:
                return service.related(article_id, limit=self.limits.max_limit)
            except ValueError:  # stored but not indexed yet, and without any text to rank it by
                return []

        version, items = versioned(service, rank)
        return RelatedList(article_id, version, service.model_key, tuple(map(related_article, items)), tuple(copies))


# The dependencies are async although they never await: FastAPI runs sync dependencies in the thread pool,
# and a thread hop per request costs more than the whole cached related lookup.
async def get_state(request: Request) -> ApiState:
    return request.app.state.api


async def store_ready(request: Request) -> ApiState:
    """Dependency: routes that read the store only."""
    state: ApiState = request.app.state.api
    state.require_store()
    return state


async def index_ready(request: Request) -> ApiState:
    """Dependency: routes that need the index (503 problem until it is loaded)."""
    state: ApiState = request.app.state.api
    state.require_index()
    return state
