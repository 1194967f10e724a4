"""A new source's language and timezone hint, from what its homepage, feeds and pages print.

Hand-written because no library guesses a publisher's zone: we read the UTC offsets its dates carry
("2024-04-03T10:00:00+08:00", "Wed, 03 Apr 2024 10:00:00 +0800") and pick the common IANA zone that has those
offsets on those dates (so -05:00 in winter and -04:00 in summer both say America/New_York), preferring the
zone of the site's language or country domain.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable
from datetime import datetime, timedelta

from dateutil import parser as dateparser

_ISO = rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})"
_RFC822 = rb"\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}(?::\d{2})? (?:GMT|UTC|[+-]\d{4})"
DATE_WITH_OFFSET = re.compile(rb"(?:" + _ISO + rb"|" + _RFC822 + rb")")
MAX_SAMPLES = 200
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")

# Common publisher zones, in the order ties are broken; a language or country domain moves its zone first.
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo",
         "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam",
         "Europe/Stockholm", "Europe/Helsinki", "Europe/Moscow", "Asia/Dubai", "Asia/Kolkata", "Asia/Shanghai",
         "Asia/Singapore", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Tokyo", "Asia/Seoul", "Australia/Sydney",
         "Pacific/Auckland"]
PREFERRED = {
    "zh": "Asia/Shanghai", "cn": "Asia/Shanghai", "hk": "Asia/Hong_Kong", "tw": "Asia/Taipei", "ja": "Asia/Tokyo",
    "jp": "Asia/Tokyo", "ko": "Asia/Seoul", "kr": "Asia/Seoul", "de": "Europe/Berlin", "fr": "Europe/Paris",
    "es": "Europe/Madrid", "it": "Europe/Rome", "nl": "Europe/Amsterdam", "sv": "Europe/Stockholm",
    "se": "Europe/Stockholm", "fi": "Europe/Helsinki", "ru": "Europe/Moscow", "pt": "America/Sao_Paulo",
    "br": "America/Sao_Paulo", "uk": "Europe/London", "hi": "Asia/Kolkata", "in": "Asia/Kolkata",
    "sg": "Asia/Singapore", "au": "Australia/Sydney", "nz": "Pacific/Auckland",
}


def dates_with_offsets(text: bytes) -> list[datetime]:
    """Timezone-aware dates printed in a document (at most MAX_SAMPLES)."""
    found = []
    for match in DATE_WITH_OFFSET.finditer(text):
        try:
            when = dateparser.parse(match.group().decode("ascii"))
        except (ValueError, OverflowError):
            continue
        if when.tzinfo is not None and when.utcoffset() is not None:
            found.append(when)
            if len(found) >= MAX_SAMPLES:
                break
    return found


def timezone_hint(dates: Iterable[datetime], language: str | None = None, host: str = "") -> tuple[str, str]:
    """(IANA zone, why): the common zone whose UTC offsets the printed dates carry; UTC when most are in UTC."""
    dates = list(dates)
    local = [d for d in dates if d.utcoffset() != timedelta(0)]
    if not dates:
        return "UTC", "no dated entries; assuming UTC"
    if len(local) * 2 < len(dates):  # a date quoted in a page's text must not outvote the feed's own dates
        return "UTC", f"{len(dates) - len(local)}/{len(dates)} dates printed in UTC"
    first = [PREFERRED[k] for k in ((language or "").split("-")[0].lower(), host.rsplit(".", 1)[-1].lower())
             if k in PREFERRED]
    order = list(dict.fromkeys(first + ZONES))
    scores = {zone: sum(_has_offset(zone, d) for d in local) for zone in order}
    best = max(order, key=lambda z: scores[z])  # max keeps the first of equal scores: the preferred zone
    if scores[best] * 2 < len(local):
        return _fixed_zone(local[0].utcoffset()), "offsets match no common zone; fixed offset"
    return best, f"{scores[best]}/{len(local)} dates carry its UTC offset"


def _has_offset(zone: str, when: datetime) -> bool:
    return when.astimezone(zoneinfo.ZoneInfo(zone)).utcoffset() == when.utcoffset()


def _fixed_zone(offset: timedelta) -> str:
    hours = int(offset.total_seconds() // 3600)
    if offset.total_seconds() % 3600:
        return "UTC"  # Etc/ zones exist for whole hours only
    return f"Etc/GMT{-hours:+d}"  # POSIX sign: Etc/GMT-8 is UTC+8


def language_tag(*candidates: str | None) -> str | None:
    """The first candidate that is a BCP 47-looking tag ("en_US" -> "en-US")."""
    for raw in candidates:
        tag = (raw or "").strip().replace("_", "-")
        if tag and LANGUAGE_TAG.match(tag):
            return tag
    return None
