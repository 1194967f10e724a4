"""Loading what the API serves from: the store, the shared RelatedService and its index, and the index watcher.

The store and the index load in a background thread, so the process answers /livez at once and /readyz (and
every index-backed route) says 503 until they are there. The same thread then watches for snapshots that
`newsagg index` publishes and lets the service swap to them (see RelatedService.refresh: the new snapshot loads
beside the current one; requests in flight finish on the old one and are never blocked). What requests use of
it is in recommender/api/dependencies.py.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass

from newsagg.config import Settings
from newsagg.store import Store
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


class IndexLoader:
    """Opens the store and the service (retrying until they load), then polls for newer snapshots and swaps to
    them, backing off from one that fails to load."""

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
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._opened = threading.Event()  # the first open attempt ended, loaded or not (wait_opened)
        self._thread: threading.Thread | None = None

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

    def wait_ready(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def wait_opened(self, timeout: float) -> bool:
        """Until the first attempt to open the store and load the index ended: ready, or known not to be yet
        (no snapshot, database down); the retries go on."""
        return self._opened.wait(timeout)

    def version(self) -> int:
        """The index version the service serves now (0 before it loaded)."""
        return self.service.version if self.service is not None else 0

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
                self._opened.set()
                return True
            except Exception as exc:
                log.exception("opening the store and index failed; retrying in %.0fs", OPEN_RETRY_SECONDS)
                self.waiting_for = f"the store and index could not be opened ({type(exc).__name__})"
                self._opened.set()
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
