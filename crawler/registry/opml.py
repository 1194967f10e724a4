"""OPML in and out of the registry: feed lists from other readers become unverified sources, and back."""

from __future__ import annotations

import os
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from urllib.parse import urlsplit

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _safe_fromstring
from pydantic import ValidationError

from crawler.registry.spec import RegistryError, SourceSpec, describe

MAX_OPML_BYTES = 5 * 1024 * 1024


def slugify(text: str) -> str:
    """ASCII source name from a title: 'Électrek — EVs' -> 'electrek-evs'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:56].rstrip("-")


def unique_name(base: str, taken: set[str]) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base[:56]}-{n}"  # stay within the 64-character name limit
    taken.add(name)
    return name


def import_opml(source: str | os.PathLike | bytes) -> list[SourceSpec]:
    """One unverified source per `<outline xmlUrl=…>` (nested too); folder titles become topics.

    DTDs are refused outright, so entity-expansion and external-entity documents fail with
    RegistryError instead of being expanded. Names are slugified titles made unique with -2, -3.
    """
    if isinstance(source, (bytes, bytearray)):
        label, data = "OPML document", bytes(source)
    else:
        label = str(source)
        try:
            with open(source, "rb") as fh:
                data = fh.read(MAX_OPML_BYTES + 1)
        except OSError as exc:
            raise RegistryError(f"{label}: cannot read OPML: {exc.strerror or exc}") from exc
    if len(data) > MAX_OPML_BYTES:
        raise RegistryError(f"{label}: OPML larger than {MAX_OPML_BYTES} bytes")
    try:
        root = _safe_fromstring(data, forbid_dtd=True)  # OPML never needs a DTD
    except DefusedXmlException as exc:
        raise RegistryError(f"{label}: unsafe OPML rejected (DTD/entities not allowed): {exc!r}") from exc
    except ET.ParseError as exc:
        raise RegistryError(f"{label}: not well-formed XML: {exc}") from exc
    if root.tag != "opml" or root.find("body") is None:
        raise RegistryError(f"{label}: not an OPML document (no <opml><body>)")

    names, specs, errors = set(), [], []
    # explicit stack instead of recursion: a hostile file could nest outlines thousands deep
    stack = [(o, ()) for o in reversed(root.find("body").findall("outline"))]
    while stack:
        node, folders = stack.pop()
        title = (node.get("title") or node.get("text") or "").strip()
        feed = (node.get("xmlUrl") or "").strip()
        if feed:
            try:
                host = urlsplit(feed).netloc
                homepage = (node.get("htmlUrl") or "").strip() or f"{urlsplit(feed).scheme}://{host}/"
                specs.append(SourceSpec(
                    name=unique_name(slugify(title) or slugify(host) or "source", names),
                    title=title or host or feed,
                    homepage=homepage,
                    language=(node.get("language") or "en").replace("_", "-"),
                    feeds=[feed],
                    topics=[t for t in map(slugify, folders) if t],
                    verified=False,
                ))
            except (ValidationError, ValueError) as exc:
                detail = describe(exc) if isinstance(exc, ValidationError) else str(exc)
                errors.append(f"outline {title or feed!r}: {detail}")
        sub = folders if feed or not title else (*folders, title)
        stack.extend((o, sub) for o in reversed(node.findall("outline")))
    if errors:
        raise RegistryError(f"{label}: {len(errors)} invalid outlines:\n  - " + "\n  - ".join(errors))
    return specs


def export_opml(sources: Iterable[SourceSpec], title: str = "newsagg sources") -> str:
    """OPML 2.0 with one outline per feed (sitemap-only sources have nothing to export)."""
    root = ET.Element("opml", version="2.0")
    ET.SubElement(ET.SubElement(root, "head"), "title").text = title
    body = ET.SubElement(root, "body")
    for s in sources:
        for feed in s.feeds:  # ElementTree escapes &, <, > and quotes in attributes
            ET.SubElement(body, "outline", type="rss", text=s.title, title=s.title,
                          xmlUrl=feed, htmlUrl=s.homepage, language=s.language)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
