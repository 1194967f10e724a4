"""`newsagg export`: stored articles out as JSON Lines, CSV or Parquet, streamed from the store.

Rows come from `Store.iter_export` one keyset page at a time, and each page is written before the next is read,
so memory stays about `export.batch_size` articles whatever the store holds (Parquet: one row group per page,
written with pyarrow's ParquetWriter). Every row carries its story id and its "also in" group: the group id and
the other copies (id, url, source) of a syndicated article.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from newsagg.store import ExportFilter, ExportRecord, Store

FORMATS = ("jsonl", "csv", "parquet")
COLUMNS = ["id", "url", "source", "title", "authors", "published_at", "updated_at", "fetched_at", "language",
           "lead_image", "summary", "body", "tags", "entities", "relevance", "paywalled", "story_id", "group_id",
           "also_in"]
_LIST_COLUMNS = {"authors", "tags", "entities", "also_in"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValueError):
    """An export that cannot be written as asked (e.g. Parquet to a terminal)."""


def row_of(record: ExportRecord) -> dict:
    """One export row: plain values, datetimes as timezone-aware UTC."""
    a = record.article
    return {
        "id": a.id, "url": a.url, "source": a.source_name, "title": a.title, "authors": list(a.authors or []),
        "published_at": a.published_at, "updated_at": a.updated_at, "fetched_at": a.fetched_at,
        "language": a.language, "lead_image": a.lead_image, "summary": a.summary or "", "body": a.body or "",
        "tags": list(a.tags or []), "entities": list(a.entities or []), "relevance": a.relevance,
        "paywalled": bool(a.paywalled), "story_id": record.story_id, "group_id": a.near_dup_group,
        "also_in": [{"id": i, "url": u, "source": s} for i, u, s in record.copies],
    }


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_jsonl(rows: Iterable[dict], out: io.TextIOBase) -> int:
    n = 0
    for n, row in enumerate(rows, 1):
        out.write(json.dumps(row, ensure_ascii=False, default=_json_default) + "\n")
    return n


def write_csv(rows: Iterable[dict], out: io.TextIOBase, *, guard_formulas: bool = True) -> int:
    """CSV with a header; list columns as JSON; cells that a spreadsheet would run as a formula are quoted."""
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    n = 0
    for n, row in enumerate(rows, 1):
        writer.writerow({k: _csv_cell(k, v, guard_formulas) for k, v in row.items()})
    return n


def _csv_cell(column: str, value, guard: bool):
    if column in _LIST_COLUMNS:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None:
        return ""
    if guard and isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # OWASP's advice against CSV injection: scraped text never becomes a formula
    return value


def parquet_schema():
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    copy = pa.struct([("id", pa.int64()), ("url", pa.string()), ("source", pa.string())])
    return pa.schema([
        ("id", pa.int64()), ("url", pa.string()), ("source", pa.string()), ("title", pa.string()),
        ("authors", pa.list_(pa.string())), ("published_at", ts), ("updated_at", ts), ("fetched_at", ts),
        ("language", pa.string()), ("lead_image", pa.string()), ("summary", pa.string()), ("body", pa.string()),
        ("tags", pa.list_(pa.string())), ("entities", pa.list_(pa.string())), ("relevance", pa.float64()),
        ("paywalled", pa.bool_()), ("story_id", pa.int64()), ("group_id", pa.int64()), ("also_in", pa.list_(copy)),
    ])


def write_parquet(rows: Iterable[dict], path: Path, *, row_group: int) -> int:
    """One row group per `row_group` rows; only that many rows are ever held."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    n = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for chunk in _chunks(rows, row_group):
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema), row_group_size=row_group)
            n += len(chunk)
    return n


def _chunks(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def export_articles(store: Store, flt: ExportFilter, fmt: str, output: Path | None, *, batch: int = 1000,
                    guard_formulas: bool = True, stdout: BinaryIO | None = None) -> int:
    """Write the matching articles to `output` (a temp file renamed on success) or to `stdout`; rows written."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "parquet" and output is None:
        raise ExportError("parquet is a binary file format: give --output FILE")
    rows = (row_of(r) for r in store.iter_export(flt, batch=batch))
    if output is None:
        text = io.TextIOWrapper(stdout, encoding="utf-8", newline="", write_through=True)
        try:
            return _write_text(fmt, rows, text, guard_formulas)
        finally:
            text.detach()  # leave the caller's stream open
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        if fmt == "parquet":
            n = write_parquet(rows, tmp, row_group=batch)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                n = _write_text(fmt, rows, fh, guard_formulas)
        os.replace(tmp, output)  # never a half-written file under the name asked for
        return n
    finally:
        tmp.unlink(missing_ok=True)


def _write_text(fmt: str, rows: Iterable[dict], out: io.TextIOBase, guard_formulas: bool) -> int:
    return write_jsonl(rows, out) if fmt == "jsonl" else write_csv(rows, out, guard_formulas=guard_formulas)
