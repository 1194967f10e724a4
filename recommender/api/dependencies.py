"""What request handlers use: readiness checks (FastAPI dependencies) and the related lists by id or by URL.

The store and the service come from the loader (recommender/api/loader.py), which opens them in the background
and swaps snapshots; this module only reads them.

A related-list cache miss is what a uniform walk over the archive pays on nearly every request (the byte-bounded
cache holds the hot set), so it is kept to two indexed reads and a greedy walk, done on the event loop: through
RelatedService.stored_related, the article's materialized list presented against the mapped catalog, and its
near-duplicate copies (one narrow query, which also says whether the article is still stored). Only an article
without a list (not indexed yet, or indexed with materialization off) goes to a worker thread to be ranked live.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from newsagg.store import Store
from newsagg.urls import canonical_url, is_http_url
from recommender.api.convert import versioned
from recommender.api.loader import IndexLoader, IndexStamp
from recommender.api.problems import ApiProblem, not_ready
from recommender.api.related_cache import RelatedList, RelatedLists
from recommender.service import RelatedService


class ApiState:
    """The request-side view of one API process: the loader's store, service and stamp, the related-list cache
    and the URL → id map of GET /related?url=."""

    def __init__(self, loader: IndexLoader):
        self.loader = loader
        self.settings = loader.settings
        self.limits = loader.settings.api
        self.related = RelatedLists(self._compute_related, loader.version, self.limits.related_cache_bytes,
                                    read=self._read_related)
        self._url_ids: OrderedDict[str, int] = OrderedDict()
        self._url_lock = threading.Lock()

    @property
    def store(self) -> Store | None:
        return self.loader.store

    @property
    def service(self) -> RelatedService | None:
        return self.loader.service

    @property
    def stamp(self) -> IndexStamp | None:
        return self.loader.stamp

    def close(self) -> None:
        self.related.close()

    def require_store(self) -> Store:
        if self.loader.store is None:
            raise not_ready(f"not ready: {self.loader.waiting_for}")
        return self.loader.store

    def require_index(self) -> IndexStamp:
        stamp = self.loader.stamp
        if stamp is None or self.loader.service is None:
            raise not_ready(f"not ready: {self.loader.waiting_for}")
        return stamp

    async def related_list(self, article_id: int, limit: int) -> RelatedList:
        try:
            return await self.related.get(article_id, limit)
        except KeyError:
            raise ApiProblem(404, f"no article with id {article_id}") from None

    async def related_list_for_url(self, url: str, limit: int) -> RelatedList:
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
            return await self.related.get(article_id, limit)
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

    def _read_related(self, article_id: int, limit: int) -> RelatedList | None:
        """A cache miss answered from the article's materialized list; None when it has none (or is not stored:
        _compute_related says which)."""
        store, service = self.require_store(), self.loader.service
        version, items = versioned(service, lambda: service.stored_related(article_id, limit=limit))
        if items is None:
            return None
        copies = store.copies_of(article_id, direct=True)
        if copies is None:  # deleted from the store since the index was built
            return None
        return RelatedList(article_id, version, service.model_key, tuple(items), tuple(copies), limit)

    def _compute_related(self, article_id: int, limit: int) -> RelatedList:
        """A cache miss; raises KeyError for an article the store does not have."""
        store, service = self.require_store(), self.loader.service
        copies = store.copies_of(article_id)
        if copies is None:
            raise KeyError(article_id)

        def rank() -> list:
            try:
                return service.related(article_id, limit=limit)
            except ValueError:  # stored but not indexed yet, and without any text to rank it by
                return []

        version, items = versioned(service, rank)
        return RelatedList(article_id, version, service.model_key, tuple(items), tuple(copies), limit)


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
