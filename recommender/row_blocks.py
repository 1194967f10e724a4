"""Catalog rows kept as consecutive blocks: memory-mapped ones (the segments saved beside the snapshots, shared by
every process that maps them through the page cache) followed by in-memory ones (rows added since the last save).

Rows are gathered by row number across blocks, never by concatenating the blocks: that would copy the mapped
rows into each process's private memory. Trailing in-memory blocks are merged like a binary counter (the last one
into the one before once it is at least half its size), so there are O(log n) of them.
"""

from __future__ import annotations

import bisect
import threading

import numpy as np
import scipy.sparse as sp

from recommender.meta import EncodedMetas


def _rows_of(part) -> int:
    return part.shape[0] if hasattr(part, "shape") else len(part)


def _stack(parts: list):
    if isinstance(parts[0], sp.spmatrix | sp.sparray):
        return sp.vstack(parts, format="csr")
    if isinstance(parts[0], EncodedMetas):
        return EncodedMetas.concat(parts)
    return np.concatenate([np.asarray(p) for p in parts])


class RowBlocks:
    """Rows [0, n) as blocks (numpy arrays, CSR matrices or EncodedMetas), mapped ones first."""

    def __init__(self, empty):
        self._empty = empty
        self._parts: list = []
        self._mapped: list[bool] = []
        self._starts = np.zeros(0, dtype=np.int64)
        self._first_rows: list[int] = []
        self._n = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._n

    @property
    def shape(self) -> tuple[int, ...]:
        return (self._n, *self._empty.shape[1:])

    def append(self, part, mapped: bool = False) -> None:
        n = _rows_of(part)
        if n == 0:
            return
        with self._lock:
            parts, flags = list(self._parts) + [part], list(self._mapped) + [mapped]
            while (len(parts) >= 2 and not flags[-1] and not flags[-2]
                   and 2 * _rows_of(parts[-1]) >= _rows_of(parts[-2])):
                parts[-2:] = [_stack(parts[-2:])]
                flags.pop()
            self._set(parts, flags)

    def replace(self, parts: list, mapped: bool = True) -> None:
        """Swap every block for `parts` holding the same rows (the saved segments, once they are written)."""
        if sum(_rows_of(p) for p in parts) != self._n:
            raise ValueError("replacement blocks must hold exactly the current rows")
        with self._lock:
            self._set(list(parts), [mapped] * len(parts))

    def _set(self, parts: list, flags: list[bool]) -> None:
        sizes = [_rows_of(p) for p in parts]
        starts = np.zeros(len(parts), dtype=np.int64)
        if parts:
            np.cumsum(sizes[:-1], out=starts[1:])
        # one assignment per attribute, parts first: a reader never sees starts beyond the parts it can index
        self._parts, self._mapped, self._starts, self._n = parts, flags, starts, int(sum(sizes))
        self._first_rows = starts.tolist()  # for item(): bisect on a list beats a numpy call on a few blocks

    def item(self, row: int):
        parts, starts = self._parts, self._first_rows
        b = bisect.bisect_right(starts, row) - 1
        if row < 0 or b < 0 or row >= self._n or b >= len(parts):
            raise IndexError(row)
        return parts[b][row - starts[b]]

    def take(self, rows):
        """The given rows, in the given order, as one array (or CSR matrix / EncodedMetas)."""
        parts, starts = self._parts, self._starts
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if not parts:
            return self._empty[:0] if len(rows) == 0 else self._empty[rows]
        if len(parts) == 1:
            return _take_one(parts[0], rows)
        which = np.searchsorted(starts, rows, side="right") - 1
        if len(rows) and (which.min() < 0 or rows.max() >= self._n):
            raise IndexError("row out of range")
        pieces, order = [], []
        for b in np.unique(which):
            sel = np.nonzero(which == b)[0]
            pieces.append(_take_one(parts[b], rows[sel] - starts[b]))
            order.append(sel)
        if len(pieces) == 1:
            return pieces[0]
        stacked = _stack(pieces)
        inverse = np.argsort(np.concatenate(order), kind="stable")
        return _take_one(stacked, inverse)

    def slice(self, start: int, stop: int):
        """Rows [start, stop) from the blocks they span (contiguous pieces, not row by row)."""
        parts, starts = self._parts, self._starts
        pieces = []
        for b, part in enumerate(parts):
            lo, hi = max(start, int(starts[b])), min(stop, int(starts[b]) + _rows_of(part))
            if lo < hi:
                pieces.append(part[lo - int(starts[b]) : hi - int(starts[b])])
        if not pieces:
            return self._empty[:0]
        return pieces[0] if len(pieces) == 1 else _stack(pieces)

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(self._n)
            return self.slice(start, stop) if step == 1 else self.take(np.arange(start, stop, step))
        if np.isscalar(key):
            return self.item(int(key))
        return self.take(key)

    def __array__(self, dtype=None, copy=None):
        out = np.asarray(self.take(np.arange(self._n)))
        return out.astype(dtype) if dtype is not None else out

    def block_count(self) -> int:
        return len(self._parts)


def _take_one(part, rows: np.ndarray):
    if isinstance(part, EncodedMetas):
        return EncodedMetas.concat([part[int(r) : int(r) + 1] for r in rows])
    if isinstance(part, np.ndarray):
        return np.asarray(part[rows])  # a copy of just these rows, also from a mapped array
    return part[rows]

