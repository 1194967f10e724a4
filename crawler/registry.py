"""Source registry: which publishers to crawl, loaded from TOML, plus OPML import/export.

Publishers are data (crawler/sources/publishers.toml), not code, so adding a site is a
one-entry change that is validated here before the spider ever sees it.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import tomllib
import unicodedata
import xml.etree.ElementTree as ET
import zoneinfo
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _safe_fromstring
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

DEFAULT_PATH = Path(__file__).resolve().parent / "sources" / "publishers.toml"
MAX_OPML_BYTES = 5 * 1024 * 1024
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RegistryError(ValueError):
    """Invalid registry file, source entry, OPML document or source selection."""


def _check_url(url: str) -> str:
    url = url.strip()
    if _CONTROL_RE.search(url) or " " in url:  # urlsplit silently drops tabs/newlines
        raise ValueError(f"URL contains whitespace or control characters: {url!r}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"malformed URL {url!r}: {exc}") from None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if parts.username is not None:
        raise ValueError(f"URL must not contain credentials: {url!r}")
    return url


def _check_domain(raw: str) -> str:
    d = raw.strip().lower()
    try:
        host, _port = _split_domain(d)  # the port property raises ValueError on a bad port
    except ValueError:
        host = ""
    if not host or urlsplit("//" + d).netloc != d or "@" in d:  # no scheme, path or userinfo
        raise ValueError(f"allowed domain must be a bare host or host:port, got {raw!r}")
    return d


def _check_timezone(tz: str) -> str:
    try:
        zoneinfo.ZoneInfo(tz)
    except (KeyError, ValueError, OSError):  # not found / malformed key / directory names
        raise ValueError(f"unknown IANA timezone {tz!r}") from None
    return tz


def _check_regex(pattern: str | None) -> str | None:
    try:
        re.compile(pattern or "")
    except re.error as exc:
        raise ValueError(f"url_pattern {pattern!r} is not a valid regex: {exc}") from None
    return pattern or None


def _check_css(selector: str) -> str:
    try:  # cssselect ships with Scrapy/parsel; a syntax check makes typos fail at load time
        from cssselect import SelectorError, parse
    except ImportError:  # pragma: no cover
        return selector
    try:
        parse(selector)
    except SelectorError as exc:
        raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from None
    return selector


def _split_domain(domain: str) -> tuple[str, int | None]:
    parts = urlsplit("//" + domain)
    return (parts.hostname or "").rstrip("."), parts.port


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


Url = Annotated[str, AfterValidator(_check_url)]
Css = Annotated[str, AfterValidator(_check_css)]


class ExtractOverrides(BaseModel):
    """Per-source hints for the article extractor."""

    model_config = ConfigDict(extra="forbid", strict=True)
    body_selector: Css | None = None
    drop_selectors: list[Css] = Field(default_factory=list)


class SourceSpec(BaseModel):
    """One publisher: where to discover articles and which URLs belong to it."""

    model_config = ConfigDict(extra="forbid", strict=True)  # typos like `feed =` must fail, not vanish
    name: str = Field(pattern=_NAME_RE.pattern)
    # no control characters: they would make the exported OPML invalid XML
    title: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[^\x00-\x1f\x7f]+$")]
    homepage: Url
    language: str = Field(default="en", pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "UTC"
    feeds: list[Url] = Field(default_factory=list)
    sitemaps: list[Url] = Field(default_factory=list)
    robots_sitemaps: bool = True
    allowed_domains: list[Annotated[str, AfterValidator(_check_domain)]] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    url_pattern: Annotated[str | None, AfterValidator(_check_regex)] = None
    verified: bool = True
    verified_on: date | None = None  # when `newsagg sources add/check` last confirmed it
    extract: ExtractOverrides = Field(default_factory=ExtractOverrides)

    @model_validator(mode="after")
    def _normalise(self) -> SourceSpec:
        self.feeds, self.sitemaps = _dedupe(self.feeds), _dedupe(self.sitemaps)
        self.topics = _dedupe(t.strip().lower() for t in self.topics if t.strip())
        self.allowed_domains = _dedupe(self.allowed_domains) or [
            # keeps an explicit port; www.x.com -> x.com so the site's other subdomains count too
            urlsplit(self.homepage).netloc.lower().removeprefix("www.")
        ]
        if not (self.feeds or self.sitemaps or self.robots_sitemaps):
            raise ValueError("nothing to crawl: give feeds, sitemaps or robots_sitemaps = true")
        return self

    def allows(self, url: str) -> bool:
        """True if `url` is on an allowed (sub)domain, and port when one is given, and matches url_pattern."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            return False
        host = (parts.hostname or "").rstrip(".")
        # userinfo is never in article URLs and is a classic host-confusion trick (a.com\@b.com)
        if parts.scheme not in _DEFAULT_PORTS or not host or parts.username is not None:
            return False
        port = _DEFAULT_PORTS[parts.scheme] if port is None else port
        for domain in self.allowed_domains:
            d_host, d_port = _split_domain(domain)
            if d_port is not None and d_port != port:
                continue
            if host == d_host or (not _is_ip(d_host) and host.endswith("." + d_host)):
                break
        else:
            return False
        # re caches compiled patterns, so searching by string does not recompile per URL
        return self.url_pattern is None or re.search(self.url_pattern, url) is not None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg'].removeprefix('Value error, ')}"
                     for e in exc.errors())


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
                errors.append(f"{label}: {_describe(exc)}")
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
        return [by_name[n] for n in _dedupe(names)]

    def dumps(self) -> str:
        """The registry as TOML text that `load` reads back to equal sources."""
        # tomllib can only read; the format is flat enough that a tiny writer beats a dependency.
        out = []
        for s in self.sources:
            out.append("[[source]]")
            for key, value in s.model_dump(exclude={"extract"}).items():
                if value is not None:
                    out.append(f"{key} = {_toml_value(value)}")
            if extract := s.extract.model_dump(exclude_defaults=True):
                out.append("[source.extract]")
                out.extend(f"{k} = {_toml_value(v)}" for k, v in extract.items())
            out.append("")
        return "\n".join(out)

    def dump(self, path: str | os.PathLike) -> None:
        """Write `dumps()` to `path` atomically (a crash never leaves half a registry)."""
        tmp = Path(path).with_name(Path(path).name + ".tmp")
        tmp.write_text(self.dumps(), encoding="utf-8")
        os.replace(tmp, path)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()  # a TOML local date
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if "\\" in value and "'" not in value and not _CONTROL_RE.search(value):
        return f"'{value}'"  # literal string: regexes stay readable
    # JSON string escapes (\" \\ \n \uXXXX) are all valid TOML basic-string escapes; DEL is not escaped by json.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def slugify(text: str) -> str:
    """ASCII source name from a title: 'Électrek — EVs' -> 'electrek-evs'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:56].rstrip("-")


def _unique(base: str, taken: set[str]) -> str:
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
                    name=_unique(slugify(title) or slugify(host) or "source", names),
                    title=title or host or feed,
                    homepage=homepage,
                    language=(node.get("language") or "en").replace("_", "-"),
                    feeds=[feed],
                    topics=[t for t in map(slugify, folders) if t],
                    verified=False,
                ))
            except (ValidationError, ValueError) as exc:
                detail = _describe(exc) if isinstance(exc, ValidationError) else str(exc)
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
            spec = spec.model_copy(update={"name": _unique(spec.name, names)})
        names.add(spec.name)
        known |= keys
        registry.sources.append(spec)
        added.append(spec)
    return added, skipped
