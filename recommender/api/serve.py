"""Serve the API with uvicorn: `newsagg api`.

The socket is bound before uvicorn starts, so the printed URL is the real one even for `--port 0` (the load
benchmark and tests read it), and connections made right after it is printed wait in the backlog instead of
being refused.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable

from newsagg.config import Settings

BACKLOG = 2048
MAX_AUTO_WORKERS = 4  # api.workers = 0: one per core up to this (each keeps its own caches and private memory)
STOP_GRACE = 30.0  # s the workers get to shut down gracefully after SIGINT/SIGTERM, then SIGKILL
READY_WAIT = 3600.0  # s a worker past the first waits for its index to open before it accepts connections anyway
log = logging.getLogger(__name__)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio turns Nagle off (TCP_NODELAY) only on sockets that do, and with Nagle on, a
    # response written in two parts waits for the client's delayed ACK: ~40 ms per keep-alive request
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def worker_count(configured: int) -> int:
    return configured or max(1, min(os.cpu_count() or 1, MAX_AUTO_WORKERS))


def serve(settings: Settings, host: str, port: int, announce: Callable[[str], None] = print) -> None:
    """Run until SIGINT/SIGTERM; `announce` gets the base URL once the socket listens."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("newsagg", "recommender"):
        logging.getLogger(name).setLevel(logging.INFO)
    sock = bind(host, port)
    announce(base_url(sock))
    workers = worker_count(settings.api.workers)
    if workers > 1 and threading.active_count() > 1:  # fork copies only the calling thread: not safe now
        log.warning("serving with one process, not %d: threads are running before the fork", workers)
        workers = 1
    if workers == 1:
        run_worker(settings, sock)
    else:
        migrate_first(settings)
        Prefork(settings, sock, workers).run()


def migrate_first(settings: Settings) -> None:
    """Bring the store's schema up to date once, before the fork: workers opening a new store together would
    race to create its tables. If it fails (the database is down), each worker's loader retries as it would."""
    from newsagg.store import Store

    try:
        Store(settings.database_url).close()  # closed (engine disposed): no connection crosses the fork
    except Exception as exc:  # noqa: BLE001 — logged; the workers retry and report it on /readyz
        log.warning("could not open the store before starting the workers: %s", exc)


def run_worker(settings: Settings, sock: socket.socket, wait_ready: bool = False) -> None:
    """One uvicorn server on the bound socket; `wait_ready`: accept nothing until the store and index are open
    (or known not to be: no snapshot yet, database down); a SIGTERM meanwhile ends the process at once."""
    import uvicorn

    from recommender.api import create_app

    app = create_app(settings)
    if wait_ready:
        loader = app.state.api.loader
        loader.start()  # the app's startup finds it running
        loader.wait_opened(READY_WAIT)
    # http/loop "auto": httptools and uvloop (dependencies, lighter per request), h11 and asyncio where they are missing
    config = uvicorn.Config(app, log_level="info", access_log=settings.api.access_log,
                            server_header=False, timeout_graceful_shutdown=10)
    uvicorn.Server(config).run(sockets=[sock])


class Prefork:
    """N uvicorn processes accepting on one bound socket, forked by this one, which only supervises: it passes
    SIGINT/SIGTERM on, waits for them, and replaces a worker that died (at most once a second). A worker whose
    supervisor is gone (SIGKILLed) shuts itself down.

    By hand rather than uvicorn's --workers: that supervisor spawns its children and hands them the config by
    pickle, so the app must be importable by name; a fork shares the bound socket and the loaded settings as they
    are. Each worker opens the store and maps the snapshot itself after the fork (nothing is loaded before it).
    The first worker answers at once (/readyz says 503 while it loads); the others, and any replacement, accept
    connections only once their index is loaded (or known to be missing), so a reader never meets a worker that
    is still loading next to one that is ready."""

    def __init__(self, settings: Settings, sock: socket.socket, workers: int):
        self.settings, self.sock, self.workers = settings, sock, workers
        self.children: dict[int, tuple[int, float]] = {}  # pid → (slot, start time)
        self.stopping: int | None = None

    def run(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._stop)
        for slot in range(self.workers):
            self._fork(slot)
        log.info("API: %d worker processes (pids %s)", self.workers, ", ".join(map(str, self.children)))
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            child = self.children.pop(pid, None)
            if child is None or self.stopping is not None:
                continue
            slot, started = child
            log.error("API worker %d exited (%s); starting another", pid, _status(status))
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
            if self.stopping is None:
                self._fork(slot)
        if self.stopping is not None:  # exit as uvicorn does: re-raise the signal, so a supervisor sees it
            signal.signal(self.stopping, signal.SIG_DFL)
            os.kill(os.getpid(), self.stopping)

    def _fork(self, slot: int) -> None:
        # a replacement waits for its index too: its siblings are serving meanwhile
        wait_ready = slot > 0 or len(self.children) > 0
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    signal.signal(sig, signal.SIG_DFL)
                _end_with(os.getppid())
                run_worker(self.settings, self.sock, wait_ready)
            except BaseException:  # noqa: BLE001 — a worker must never return into the supervisor's loop
                log.exception("API worker failed")
                code = 1
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = (slot, time.monotonic())

    def _stop(self, signum, _frame) -> None:
        if self.stopping is None:  # uvicorn's own grace is timeout_graceful_shutdown; this is the backstop
            killer = threading.Timer(STOP_GRACE, self._signal_all, (signal.SIGKILL,))
            killer.daemon = True
            killer.start()
        self.stopping = signum
        self._signal_all(signal.SIGTERM)

    def _signal_all(self, sig: int) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass


def _end_with(supervisor: int) -> None:
    """A worker whose supervisor died (SIGKILL, OOM) stops too, within a second, instead of holding the port
    for good: its parent is then someone else. A thread that polls, because PR_SET_PDEATHSIG is Linux-only."""

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown (its handler is installed by then)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


def _status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
