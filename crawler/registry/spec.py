"""Validation of the source registry: what a publisher entry may say, checked before the spider ever sees it."""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Iterable
from datetime import date
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from newsagg.text import CONTROL_CHARS

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RegistryError(ValueError):
    """Invalid registry file, source entry, OPML document or source selection."""


def _check_url(url: str) -> str:
    url = url.strip()
    if CONTROL_CHARS.search(url) or any(ch.isspace() for ch in url):  # urlsplit silently drops tabs/newlines
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


def _check_title(title: str) -> str:
    # no control characters or line breaks: the exported OPML must stay valid XML, listings one line per source
    title = title.strip()
    if not title or CONTROL_CHARS.search(title) or any(ch in title for ch in "\t\n\r"):
        raise ValueError("title must be one line of text without control characters")
    return title


Url = Annotated[str, AfterValidator(_check_url)]
Css = Annotated[str, AfterValidator(_check_css)]


class ExtractOverrides(BaseModel):
    """Per-source hints for the article extractor (crawler/extract/ takes this model as it is)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    body_selector: Css | None = None  # CSS selector of the body container
    drop_selectors: list[Css] = Field(default_factory=list)  # removed from the page before extraction


class SourceSpec(BaseModel):
    """One publisher: where to discover articles and which URLs belong to it."""

    model_config = ConfigDict(extra="forbid", strict=True)  # typos like `feed =` must fail, not vanish
    name: str = Field(pattern=_NAME_RE.pattern)
    title: Annotated[str, AfterValidator(_check_title)]
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


def describe(exc: ValidationError) -> str:
    """A pydantic error as one line per problem, field first (for RegistryError messages)."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg'].removeprefix('Value error, ')}"
                     for e in exc.errors())
