"""Point reads on the API's hot path (a related-list cache miss) run on the driver's own connection.

Why by hand: through SQLAlchemy a one-row indexed read cost ~0.15 ms here (pool checkout, reset on return,
compile-cache lookup, result wrapping) against ~0.02 ms for the same statement on the DBAPI connection, and a miss
makes two. The statements are still SQLAlchemy's: compiled once for the engine's dialect, their columns' result
processors applied (UTCDateTime stays timezone-aware). Each thread keeps one connection of its own, detached from
the pool and in autocommit mode, so no read holds a transaction (or an old SQLite snapshot) open; a connection
that fails is dropped and the read tried once more on a fresh one. Meant for the one thread that needs it (the
event loop): a thread pool using it would hold a connection per thread.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.sql import Select


class DriverReads:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._local = threading.local()
        self._compiled: dict[int, tuple[str, tuple[str, ...] | None, list]] = {}

    def all(self, statement: Select, params: dict[str, Any]) -> list[tuple]:
        sql, names, processors = self._compile(statement)
        args = tuple(params[n] for n in names) if names is not None else params
        for attempt in (1, 2):
            conn = self._connection()
            try:
                cursor = conn.cursor()
                try:
                    cursor.execute(sql, args)
                    rows = cursor.fetchall()
                finally:
                    cursor.close()
                break
            except self.engine.dialect.loaded_dbapi.Error:
                self._drop()
                if attempt == 2:
                    raise
        return [tuple(p(v) if p else v for p, v in zip(processors, row)) for row in rows]

    def close(self) -> None:
        self._drop()

    def _compile(self, statement: Select):
        compiled = self._compiled.get(id(statement))
        if compiled is None:
            dialect = self.engine.dialect
            c = statement.compile(dialect=dialect)
            names = tuple(c.positiontup) if c.positional else None
            processors = [col.type.dialect_impl(dialect).result_processor(dialect, None)
                          for col in statement.selected_columns]
            compiled = self._compiled[id(statement)] = (str(c), names, processors)
        return compiled

    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            pooled = self.engine.raw_connection()  # through the pool's connect hooks (the SQLite pragmas)
            conn = pooled.driver_connection
            pooled.detach()  # this thread's for good: never reset or handed to anyone else by the pool
            if self.engine.dialect.name == "sqlite":
                conn.isolation_level = None  # autocommit: each read sees the latest commit
            else:
                conn.autocommit = True
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.close()
            except self.engine.dialect.loaded_dbapi.Error:
                pass
