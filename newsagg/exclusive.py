"""Store-wide exclusive sections: one holder at a time across processes and machines sharing one store.

PostgreSQL: a session-level advisory lock on a dedicated connection, held for the whole section (schedulers on
several machines share one database, and a file lock on one of them protects nothing). The key is derived from
the section's name and the connection's schema, so two deployments in separate schemas never wait for each other.
The connection is in autocommit: holding the lock must not keep a transaction open for the section's length.
A holder that dies loses its connection, and PostgreSQL releases the lock with it.

SQLite: the database is one file on one machine, so a file lock beside it does (filelock; the kernel drops it
when the holder dies).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)
_memory_locks: dict[str, threading.Lock] = {}


def advisory_key(schema: str, name: str) -> int:
    """A signed 64-bit advisory-lock key, stable across processes and releases."""
    digest = hashlib.blake2b(f"newsagg:{schema}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def exclusive(engine: Engine, name: str, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the store-wide lock `name` for the body of the `with`; blocks (calling `on_wait` once) while taken."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine, name, on_wait):
            yield
    else:
        with _file_lock(engine, name, on_wait):
            yield


@contextmanager
def _advisory(engine: Engine, name: str, on_wait: Callable[[], None] | None) -> Iterator[None]:
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    released = False
    try:
        key = advisory_key(conn.scalar(text("SELECT current_schema()")) or "", name)
        if not conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}):
            _waiting(name, on_wait)
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        try:
            yield
        finally:
            released = bool(conn.scalar(text("SELECT pg_advisory_unlock(:k)"), {"k": key}))
    finally:
        if not released:  # never hand a connection that may still hold the lock back to the pool
            conn.invalidate()
        conn.close()


@contextmanager
def _file_lock(engine: Engine, name: str, on_wait: Callable[[], None] | None) -> Iterator[None]:
    database = engine.url.database
    if not database or database == ":memory:":  # one process owns an in-memory store: a thread lock will do
        lock = _memory_locks.setdefault(name, threading.Lock())
        try_take, take, release = (lambda: lock.acquire(blocking=False)), lock.acquire, lock.release
    else:
        path = Path(database).with_name(f"{Path(database).name}.{name}.lock")
        lock = FileLock(str(path), thread_local=False)
        try_take, take, release = (lambda: _try_file_lock(lock)), lock.acquire, lock.release
    if not try_take():
        _waiting(name, on_wait)
        take()
    try:
        yield
    finally:
        release()


def _try_file_lock(lock: FileLock) -> bool:
    try:
        lock.acquire(timeout=0)
        return True
    except Timeout:
        return False


def _waiting(name: str, on_wait: Callable[[], None] | None) -> None:
    log.info("waiting for the store-wide lock %r (held by another process)", name)
    if on_wait is not None:
        on_wait()
