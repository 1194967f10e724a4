"""Writing the registry as TOML (tomlkit): whole files (`dumps`), and the table of one source for in-place edits."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import tomlkit
from tomlkit.exceptions import InvalidStringError

from crawler.registry.spec import SourceSpec

def entry_of(spec: SourceSpec) -> dict:
    """The registry fields of a source in SourceSpec's order, unset ones left out; extraction overrides (a table of
    their own, so last) only if set."""
    entry = spec.model_dump(exclude_none=True, exclude={"extract"})
    if extract := spec.extract.model_dump(exclude_defaults=True):
        entry["extract"] = extract
    return entry


def source_table(spec: SourceSpec) -> tomlkit.items.Table:
    """One [[source]] table; strings with backslashes (regexes) as literal strings, so they read as written."""
    table = tomlkit.table()
    for key, value in entry_of(spec).items():
        table[key] = _readable(value)
    return table


def _readable(value):
    if isinstance(value, dict):
        return {k: _readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_readable(v) for v in value]
    if isinstance(value, str) and "\\" in value:
        try:
            return tomlkit.string(value, literal=True)
        except InvalidStringError:  # a quote or a control character: a basic string escapes it
            return value
    return value


def dumps(sources: Iterable[SourceSpec]) -> str:
    """The sources as registry TOML that `Registry.load` reads back to equal sources."""
    doc = tomlkit.document()
    tables = tomlkit.aot()
    for spec in sources:
        tables.append(source_table(spec))
    if tables:
        doc.append("source", tables)
    return tomlkit.dumps(doc)


def write_atomically(path: str | os.PathLike, text: str, check: Callable[[Path], object] | None = None) -> None:
    """Replace `path` with `text` in one rename (a crash never leaves half a registry); `check(tmp)` may refuse it
    first by raising, and then the file stays as it was."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        if check is not None:
            check(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
