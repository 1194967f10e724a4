"""Registry edits that keep the file as its author wrote it (comments, order, spacing): tomlkit, not string appends.

Every edit is validated by loading the edited text with `Registry.load` before it replaces the file, and the file is
replaced atomically, so a failed edit leaves the registry as it was.
"""

from __future__ import annotations

import os
from pathlib import Path

import tomlkit

from crawler.registry import Registry, SourceSpec

FIELD_ORDER = ("name", "title", "homepage", "language", "timezone", "feeds", "sitemaps", "robots_sitemaps",
               "allowed_domains", "topics", "url_pattern", "verified", "verified_on")


def entry_of(spec: SourceSpec) -> dict:
    """The registry fields of a source, in the registry's usual order (extraction overrides only if set)."""
    data = spec.model_dump(exclude_none=True)
    entry = {key: data[key] for key in FIELD_ORDER if key in data}
    if extract := spec.extract.model_dump(exclude_defaults=True):
        entry["extract"] = extract
    return entry


def append_source(path: Path, spec: SourceSpec, comment: str = "") -> None:
    """Add `spec` as a new [[source]] table at the end of the registry (created when missing)."""
    doc = _read(path)
    tables = doc.get("source")
    if tables is None:
        tables = tomlkit.aot()
        doc.append("source", tables)
    table = tomlkit.table()
    if comment:
        table.comment(comment)
    for key, value in entry_of(spec).items():
        table[key] = value
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
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
    try:
        Registry.load(tmp)  # never replace a valid registry with one the crawler would refuse
    except Exception:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
