"""Registry edits that keep the file as its author wrote it (comments, order, spacing): tomlkit, not string appends.

Every edit is validated by loading the edited text with `Registry.load` before it replaces the file, and the file is
replaced atomically, so a failed edit leaves the registry as it was.
"""

from __future__ import annotations

from pathlib import Path

import tomlkit

from crawler.registry import Registry, SourceSpec
from crawler.registry.writing import entry_of, source_table, write_atomically

__all__ = ["append_source", "entry_of", "update_sources"]


def append_source(path: Path, spec: SourceSpec, comment: str = "") -> None:
    """Add `spec` as a new [[source]] table at the end of the registry (created when missing)."""
    doc = _read(path)
    tables = doc.get("source")
    if tables is None:
        tables = tomlkit.aot()
        doc.append("source", tables)
    table = source_table(spec)
    if comment:
        table.comment(comment)
    tables.append(table)
    _write(path, doc)


def update_sources(path: Path, changes: dict[str, dict]) -> list[str]:
    """Set fields of named sources in place, e.g. {"electrek": {"feeds": [...], "verified": True}}; names changed."""
    doc = _read(path)
    changed = []
    for table in doc.get("source", []):
        fields = changes.get(table.get("name"))
        if fields:
            for key, value in fields.items():
                table[key] = value
            changed.append(str(table["name"]))
    if changed:
        _write(path, doc)
    return changed


def _read(path: Path) -> tomlkit.TOMLDocument:
    if not path.exists():
        return tomlkit.document()
    return tomlkit.parse(path.read_text(encoding="utf-8"))


def _write(path: Path, doc: tomlkit.TOMLDocument) -> None:
    # never replace a valid registry with one the crawler would refuse
    write_atomically(path, tomlkit.dumps(doc), check=Registry.load)
