"""Dates: ``parse_date`` (any string -> aware UTC datetime) and the page's
published/updated dates from JSON-LD, meta tags, <time> elements and date-ish blocks."""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

try:  # zoneinfo is stdlib; tzdata provides the database on slim systems
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover
    ZoneInfo = None  # type: ignore[assignment]

from lxml.html import HtmlElement

from crawler.extract.page import META_LINE_MAX, _classid, _in_comments_or_form, _Page, _text_of
from crawler.extract.text import _clean_ws

# Only abbreviations with one meaning; others (CST, IST, BST...) fall back to the source's zone.
_TZ_ABBR: dict[str, Any] = {
    "UTC": timezone.utc,
    "GMT": timezone.utc,
    "Z": timezone.utc,
    "PST": timezone(timedelta(hours=-8)),
    "PDT": timezone(timedelta(hours=-7)),
    "EST": timezone(timedelta(hours=-5)),
    "EDT": timezone(timedelta(hours=-4)),
    "PT": "America/Los_Angeles",
    "ET": "America/New_York",
    "CT": "America/Chicago",
    "MT": "America/Denver",
}
# Zone abbreviations we recognise but do not trust (several meanings, e.g. CST =
# US Central or China Standard Time): removed so the source's zone applies.
_UNTRUSTED_TZ = (
    "CST CDT MST MDT IST BST CET CEST EET EEST WET WEST JST KST HKT SGT AEST AEDT ACST AWST NZST NZDT MSK "
    "WIB PHT ICT AKST AKDT HST AST ADT NST NDT SAST WAT EAT CAT BRT ART GST PKT NPT MYT"
).split()
_TZ_TOKEN_RE = re.compile(r"(?<![A-Za-z])(?:" + "|".join([*(k for k in _TZ_ABBR if k != "Z"), *_UNTRUSTED_TZ]) + r")(?![A-Za-z])")
_AMPM_RE = re.compile(r"\b([ap])\.?\s?m\b\.?", re.I)
_YEAR_RE = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_DOTTED_DATE_RE = re.compile(r"^\s*\d{1,2}\.\d{1,2}\.\d{2,4}")
_SLASH_DATE_RE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/\d{2,4}")
_EPOCH_RE = re.compile(r"^\d{10}(?:\d{3})?$")
EARLIEST_YEAR = 1995


def _zone(name: str | None) -> Any:
    if not name or ZoneInfo is None:
        return timezone.utc
    if name.upper() in ("UTC", "GMT", "Z"):
        return timezone.utc
    try:
        return ZoneInfo(name)
    except Exception:  # noqa: BLE001 - unknown zone names fall back to UTC
        return timezone.utc


def parse_date(value: Any, default_timezone: str = "UTC", now: datetime | None = None) -> datetime | None:
    """Parse a date string to an aware UTC datetime; None if unparsable or implausible."""
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        if isinstance(value, (int, float)):
            value = str(int(value))
        if not isinstance(value, str):
            return None
        s = _clean_ws(value)[:100]
        if not s:
            return None
        dt = _parse_date_str(s, default_timezone)
        if dt is None:
            return None
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        dt = dt.replace(tzinfo=_zone(default_timezone))
    try:
        dt = dt.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None
    now = now or datetime.now(timezone.utc)
    if dt.year < EARLIEST_YEAR or dt > now + timedelta(days=1):
        return None
    return dt


_CJK_DATE_RE = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")


def _parse_date_str(s: str, default_timezone: str) -> datetime | None:
    if _EPOCH_RE.match(s):
        try:
            secs = int(s[:10])
            return datetime.fromtimestamp(secs, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    # CJK dates ("2024年04月03日 20:10"): dateutil misreads them (year 2000), so make them ISO-like first.
    s = _CJK_DATE_RE.sub(lambda m: f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}", s)
    if not _YEAR_RE.search(s):
        return None
    iso = s.replace("Z", "+00:00") if s.endswith("Z") else s
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    from dateutil import parser as dparser  # local import: only needed for non-ISO strings

    text = _AMPM_RE.sub(lambda m: f" {m.group(1).upper()}M", s)
    text = re.sub(r"\b(?:at|um|à|às|a las|alle|om)\b", " ", text, flags=re.I)
    text = re.sub(r"\b(?:updated|published|posted|last modified|modified|on)\b:?", " ", text, flags=re.I)
    text = text.replace("|", " ").replace("·", " ").replace("•", " ")
    found: list[str] = []

    def _take_zone(m: re.Match) -> str:
        found.append(m.group(0))
        return " "  # trusted or not, the token goes: untrusted ones mean the source's zone applies

    text = _TZ_TOKEN_RE.sub(_take_zone, text)
    tz: Any = next((_TZ_ABBR[a] for a in found if a in _TZ_ABBR), None)
    dayfirst = bool(_DOTTED_DATE_RE.match(text))
    sm = _SLASH_DATE_RE.match(text)
    if sm and int(sm.group(1)) > 12:
        dayfirst = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown tz names: the source's zone applies
            dt = dparser.parse(_clean_ws(text), dayfirst=dayfirst, fuzzy=True, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError, TypeError):
        return None
    if dt.tzinfo is not None and tz is None:
        return dt
    if tz is not None:
        zone = _zone(tz) if isinstance(tz, str) else tz
        dt = dt.replace(tzinfo=zone)
    return dt


def _dates(page: _Page, default_timezone: str) -> tuple[datetime | None, datetime | None]:
    def first(values: Iterable[Any]) -> datetime | None:
        for v in values:
            if isinstance(v, list):
                v = v[0] if v else None
            d = parse_date(v, default_timezone)
            if d is not None:
                return d
        return None

    pub_sources: list[Any] = [page.ld_get("datePublished"), page.ld_get("dateCreated")]
    pub_sources += page.m_all(
        "article:published_time",
        "og:published_time",
        "article:published",
        "published_time",
        "parsely-pub-date",
        "sailthru.date",
        "dc.date.issued",
        "dc.date",
        "dcterms.date",
        "dcterms.created",
        "dcterms.issued",
        "citation_publication_date",
        "date",
        "pubdate",
        "publishdate",
        "publish-date",
        "article.published",
        "datepublished",
        "og:pubdate",
        "cxenseparse:recs:publishtime",
    )
    published = first(pub_sources)
    if published is None:
        published = first(_time_elements(page.tree))
    if published is None:
        published = first(_date_text_candidates(page.tree))
    upd_sources: list[Any] = [page.ld_get("dateModified")]
    upd_sources += page.m_all(
        "article:modified_time",
        "og:updated_time",
        "article:modified",
        "modified_time",
        "dcterms.modified",
        "last-modified",
        "lastmod",
        "datemodified",
    )
    updated = first(upd_sources)
    return published, updated


# "info" too: pages without metadata often put source, byline and date in one
# <div class="info"> line ("Source: X  Author: Y  2024-04-03 20:10").
_DATE_CLASS_RE = re.compile(r"date|time|posted|published|dateline|byline|meta|info", re.I)
# A numeric date (year first, or day.month.year / month/day/year) with an optional
# time and zone, found inside a longer meta line. Only this part is parsed: the
# fuzzy parser would otherwise also read the names and words around it.
_NUMERIC_DATE_RE = re.compile(
    r"(?<![\w.:/-])(?:(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:19|20)\d{2})(?![\d.:/-]*\d)"
    r"(?:(?:T|,?[ \t\u00a0]+)\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:[ \t\u00a0]*[aApP]\.?[mM]\b\.?)?)?"
    r"(?:[ \t\u00a0]*(?:Z\b|(?:UTC|GMT)?[ \t\u00a0]*[+-]\d{1,2}(?::?\d{2})?\b)|[ \t\u00a0]+(?:UTC|GMT|[A-Z]{1,4}T)\b)?"
)


def _date_text_candidates(tree: HtmlElement) -> list[str]:
    """Short text of date-ish elements ("Posted: 2024-03-28 22:40"), in page order.

    When the block holds a numeric date ("Source: X  Author: Y  2024-04-03 20:10"),
    only that date is returned, so that longer meta lines qualify too."""
    out: list[str] = []
    try:
        body = tree.find("body")
        scope = body if body is not None else tree
        for el in scope.iter("p", "span", "div", "small", "li", "em", "address"):
            ci = _classid(el)
            if not ci.strip() or not _DATE_CLASS_RE.search(ci) or _in_comments_or_form(el):
                continue
            text = _text_of(el)
            m = _NUMERIC_DATE_RE.search(text) if len(text) <= META_LINE_MAX else None
            if m:
                out.append(m.group(0))
            elif 6 <= len(text) <= 120 and _YEAR_RE.search(text):
                out.append(text)
            if len(out) >= 5:
                break
    except Exception:  # noqa: BLE001
        pass
    return out


def _time_elements(tree: HtmlElement) -> list[str]:
    out: list[str] = []
    try:
        preferred = tree.xpath(
            '//*[@itemprop="datePublished"]/@content | //*[@itemprop="datePublished"]/@datetime'
            " | //time[@pubdate]/@datetime"
        )
        out.extend(str(v) for v in preferred[:3])
        for t in tree.iter("time"):
            v = t.get("datetime") or _text_of(t)
            if v:
                out.append(v[:100])
            if len(out) > 8:
                break
    except Exception:  # noqa: BLE001
        pass
    return out
