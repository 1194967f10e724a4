"""Child processes of `newsagg schedule` and `newsagg up`: started in their own session, stopped cleanly.

A child gets exactly one SIGTERM from us (Ctrl-C in a terminal reaches only the parent), then SIGKILL after a grace
time. A child whose parent was killed with SIGKILL dies with it (`watch_parent`).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time

log = logging.getLogger(__name__)
PARENT_ENV = "NEWSAGG_PARENT_PID"
PR_SET_PDEATHSIG = 1  # <sys/prctl.h>
CLI_MODULE = "newsagg.app.cli"  # what every child runs: `python -m newsagg.app.cli COMMAND …`


def cli_argv(*args: str, python: str = sys.executable) -> list[str]:
    """The argv of a `newsagg` child process (by module, so it runs in this interpreter's environment)."""
    return [python, "-m", CLI_MODULE, *args]


def watch_parent() -> None:
    """In a child of the scheduler (or `up`): die with that parent, even after kill -9.

    Linux: the kernel SIGKILLs us the moment the parent goes (prctl PR_SET_PDEATHSIG), set here rather than in a
    Popen preexec_fn, which is unsafe in the scheduler's threaded process. SIGKILL, not a clean stop: the parent's
    group lock is free from that moment, and a crawl still shutting down would overlap the next scheduler's; every
    write is a transaction, leases expire back to the queue and the next scheduler marks the run killed. Elsewhere
    a thread polls the parent pid and stops us cleanly.
    """
    parent = os.environ.get(PARENT_ENV)
    if not parent or not parent.isdigit():
        return
    if _die_with_parent():
        if os.getppid() != int(parent):  # it died before the prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)
        return

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(1.0)
        logging.getLogger(__name__).warning("parent process %s is gone: stopping", parent)
        os.kill(os.getpid(), signal.SIGTERM)  # Scrapy's clean shutdown; the crawl resumes on the next run
        time.sleep(15.0)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _die_with_parent() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


class Stopping:
    """The scheduler's stop request: `soft` = stop cleanly (SIGTERM to children), `hard` = kill them now."""

    def __init__(self):
        self.soft = threading.Event()
        self.hard = threading.Event()

    def request(self) -> None:
        (self.hard if self.soft.is_set() else self.soft).set()


def run_child(argv: list[str], *, stopping: Stopping, timeout: float, stop_timeout: float,
              on_start=None, env: dict[str, str] | None = None, lost: threading.Event | None = None) -> int:
    """Run argv in its own session until it exits, is stopped (or `lost` is set: its lock is gone), or overruns;
    returns its exit status."""
    env = {**os.environ, **(env or {}), PARENT_ENV: str(os.getpid())}
    proc = subprocess.Popen(argv, env=env, start_new_session=True)  # Ctrl-C reaches us only: we forward once
    if on_start:
        on_start(proc)
    deadline, termed_at, killed = time.monotonic() + timeout, None, False
    while True:
        try:
            return proc.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        lock_lost = lost is not None and lost.is_set()
        if termed_at is None and (stopping.soft.is_set() or now > deadline or lock_lost):
            reason = ("stop requested" if stopping.soft.is_set() else "its group lock was lost" if lock_lost
                      else f"ran longer than {timeout:.0f}s")
            log.warning("%s: SIGTERM to pid %s (%s)", " ".join(argv[2:5]), proc.pid, reason)
            signal_process_group(proc, signal.SIGTERM)
            termed_at = now
        if not killed and termed_at is not None and (stopping.hard.is_set() or now - termed_at > stop_timeout):
            log.warning("killing pid %s", proc.pid)
            signal_process_group(proc, signal.SIGKILL)
            killed = True


def signal_process_group(proc: subprocess.Popen, sig: int) -> None:
    """Signal a child started with start_new_session (its whole process group); no-op once it is gone."""
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def install_stop_handlers(stop) -> None:
    """SIGTERM/SIGINT call stop(): the first stops cleanly, the second kills children."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop())
