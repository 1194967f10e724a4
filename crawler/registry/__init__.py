"""Source registry: which publishers to crawl, loaded from TOML, plus OPML import/export.

Publishers are data (crawler/sources/publishers.toml), not code, so adding a site is a one-entry change that is
validated (spec.py) before the spider ever sees it. opml.py reads and writes OPML feed lists; writing.py writes the
TOML (tomlkit); this module loads a registry and selects sources from it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError

from crawler.registry.opml import MAX_OPML_BYTES, export_opml, import_opml, slugify, unique_name
from crawler.registry.spec import ExtractOverrides, RegistryError, SourceSpec, describe
from crawler.registry.writing import dumps, write_atomically

__all__ = ["DEFAULT_PATH", "MAX_OPML_BYTES", "ExtractOverrides", "Registry", "RegistryError", "SourceSpec",
           "export_opml", "import_opml", "merge", "slugify"]

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "sources" / "publishers.toml"


class Registry:
    """The list of sources, with lookup, selection and TOML round-tripping."""

    def __init__(self, sources: Iterable[SourceSpec] = (), path: Path | None = None):
        self.sources = list(sources)
        self.path = path
        names = [s.name for s in self.sources]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise RegistryError(f"duplicate source names: {', '.join(dupes)}")

    @classmethod
    def load(cls, path: str | os.PathLike = DEFAULT_PATH) -> Registry:
        """Read and validate a registry file; every problem is reported in one RegistryError."""
        path = Path(path)
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise RegistryError(f"{path}: cannot read registry: {exc.strerror or exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise RegistryError(f"{path}: invalid TOML: {exc}") from exc
        entries = data.get("source", [])
        if set(data) - {"source"} or not isinstance(entries, list):
            raise RegistryError(f"{path}: expected only [[source]] tables, found keys {sorted(data)}")
        sources, errors, first_seen = [], [], {}
        for i, entry in enumerate(entries, 1):
            raw_name = entry.get("name") if isinstance(entry, dict) else None
            label = f"source #{i}" + (f" {raw_name!r}" if isinstance(raw_name, str) else "")
            try:
                spec = SourceSpec.model_validate(entry)
            except ValidationError as exc:
                errors.append(f"{label}: {describe(exc)}")
                continue
            if spec.name in first_seen:
                errors.append(f"{label}: duplicate name (also used by source #{first_seen[spec.name]})")
                continue
            first_seen[spec.name] = i
            sources.append(spec)
        if errors:
            raise RegistryError(f"{path}: {len(errors)} invalid source entries:\n  - " + "\n  - ".join(errors))
        return cls(sources, path=path)

    def __len__(self) -> int:
        return len(self.sources)

    def __iter__(self):
        return iter(self.sources)

    def __contains__(self, name: object) -> bool:
        return any(s.name == name for s in self.sources)

    def get(self, name: str) -> SourceSpec:
        """The source called `name`; RegistryError listing the known names if there is none."""
        return self.select([name])[0]

    def select(self, names: list[str] | None) -> list[SourceSpec]:
        """Sources by name, in the order asked (duplicates dropped); None means all of them."""
        if names is None:
            return list(self.sources)
        by_name = {s.name: s for s in self.sources}
        if unknown := [n for n in names if n not in by_name]:
            raise RegistryError(
                f"unknown source(s): {', '.join(unknown)}; known: {', '.join(sorted(by_name)) or '(none)'}"
            )
        return [by_name[n] for n in dict.fromkeys(names)]

    def dumps(self) -> str:
        """The registry as TOML text that `load` reads back to equal sources."""
        return dumps(self.sources)

    def dump(self, path: str | os.PathLike) -> None:
        """Write `dumps()` to `path` atomically (a crash never leaves half a registry)."""
        write_atomically(path, self.dumps())


def _feed_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc.lower().removeprefix('www.')}{parts.path.rstrip('/')}?{parts.query}"


def merge(registry: Registry, new_sources: Iterable[SourceSpec]) -> tuple[list[SourceSpec], list[SourceSpec]]:
    """Append sources whose feeds the registry lacks; returns (added, skipped_existing).

    A source is "existing" when any of its feeds is already registered (scheme, www. and a
    trailing slash ignored). A new feed whose name is taken is added under name-2, name-3, …
    """
    names = {s.name for s in registry.sources}
    known = {_feed_key(f) for s in registry.sources for f in s.feeds}
    added, skipped = [], []
    for spec in new_sources:
        keys = {_feed_key(f) for f in spec.feeds}
        if keys & known or (not keys and spec.name in names):
            skipped.append(spec)
            continue
        if spec.name in names:
            spec = spec.model_copy(update={"name": unique_name(spec.name, names)})
        names.add(spec.name)
        known |= keys
        registry.sources.append(spec)
        added.append(spec)
    return added, skipped
