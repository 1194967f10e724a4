"""Title and site name. The title is the structured headline, else the <h1>, else the
<title> cut to the part the page shows as its headline, without the site's name."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Iterable
from urllib.parse import urlsplit

from crawler.extract.page import _abs_http_url, _classid, _host, _ld_types, _Page, _text_of
from crawler.extract.text import _EMAIL_OR_URL_RE, _norm, _plain

LOG = logging.getLogger(__name__)

def _title(page: _Page, site_name: str | None) -> str:
    host = _host(page.url)
    candidates: list[Any] = [
        page.ld_get("headline"),
        page.m("og:title"),
        page.m("twitter:title"),
        page.m("parsely-title", "sailthru.title", "dc.title", "dcterms.title", "title"),
        page.ld_get("name"),
    ]
    for c in candidates:
        if isinstance(c, list):
            c = next((x for x in c if isinstance(x, str)), None)
        text = _plain(c, 500)
        if text:
            return _strip_site_name(text, site_name, host, loose=False)
    headings = _headings(page, site_name, host)
    if headings.h1:
        text = _plain(headings.h1[0], 500)
        if text:
            return _strip_site_name(text, site_name, host, loose=False)
    try:
        t = page.tree.find(".//title")
        if t is not None:
            text = _plain(_text_of(t), 500)
            # "Site - Headline" / "Headline | Section | Site": the part the page itself
            # shows as its headline is the title, whichever side the site name is on
            for heading in headings.h1 or headings.h2:
                part = _title_part_matching(text, heading)
                if part and not _is_site_name(part, site_name, host, headings.site_texts):
                    return part
            return _strip_site_name(text, site_name, host, loose=True)
    except Exception:  # noqa: BLE001
        pass
    return ""


_TITLE_SEP_RE = re.compile(r"\s+[|–—·»:-]\s+")
# Containers whose headings are page furniture, not the article's headline.
_NOT_HEADLINE_RE = re.compile(
    r"logo|brand|masthead|site-?name|site-?title|nav|menu|sidebar|widget|footer|related|comment|popular|"
    r"trending|newsletter|promo",
    re.I,
)
H2_HEADLINE_SCAN = 5  # only the first few <h2>s: the headline sits near the top


@dataclass
class _Headings:
    h1: list[str]  # <h1> texts that are not the site name
    h2: list[str]  # <h2> texts near the top, outside furniture (used when there is no <h1>)
    site_texts: set[str]  # normalised texts of the home link / logo: the site's name as shown


def _headings(page: _Page, site_name: str | None, host: str) -> _Headings:
    out = _Headings([], [], set())
    try:
        body = page.tree.find("body")
        scope = body if body is not None else page.tree
        for el in scope.iter("a", "div", "span", "td", "p", "h1", "h2"):
            if el.tag == "a":
                if _is_home_link(el.get("href"), page.url):
                    out.site_texts.add(_norm(_text_of(el)))
            elif re.search(r"logo|brand|masthead|site-?name|site-?title", _classid(el)):
                text = _text_of(el)
                if len(text) <= 60:
                    out.site_texts.add(_norm(text))
        out.site_texts.discard("")
        for h in scope.iter("h1"):
            text = _text_of(h)
            if text and not _is_site_name(text, site_name, host, out.site_texts):
                out.h1.append(text)
        if not out.h1:
            for n, h in enumerate(scope.iter("h2")):
                if n >= H2_HEADLINE_SCAN:
                    break
                if any(a.tag in ("nav", "footer", "aside") or _NOT_HEADLINE_RE.search(_classid(a))
                       for a in (h, *h.iterancestors())):
                    continue
                text = _text_of(h)
                if text and not _is_site_name(text, site_name, host, out.site_texts):
                    out.h2.append(text)
    except Exception:  # noqa: BLE001
        LOG.debug("heading scan failed", exc_info=True)
    return out


def _is_home_link(href: str | None, page_url: str) -> bool:
    if not href:
        return False
    u = _abs_http_url(href, page_url)
    if not u:
        return False
    parts = urlsplit(u)
    return parts.path in ("", "/") and not parts.query and _host(u) == _host(page_url)


def _site_keys(site_name: str | None, host: str) -> set[str]:
    """Compact forms of the site's name: "autopulseasia", "example", "examplecom"."""
    names = {_norm(site_name or "").replace(" ", "")}
    if host:
        h = host.lower().removeprefix("www.")
        names |= {h.replace(".", ""), h.split(".")[0]}
    names.discard("")
    return names


def _is_site_name(text: str, site_name: str | None, host: str, site_texts: Iterable[str] = ()) -> bool:
    key = _norm(text)
    if not key:
        return False
    if key in site_texts:
        return True
    compact = key.replace(" ", "")
    return any(compact == n for n in _site_keys(site_name, host) if len(n) >= 3)


def _title_part_matching(title: str, heading: str) -> str | None:
    """The separator-delimited run of ``title`` equal (normalised) to ``heading``.

    Runs of several parts count too, since headlines contain separators themselves
    ("AutoPulse Asia - Tesla: Model Y - what changes"). None if only the whole title matches."""
    target = _norm(heading)
    if not target:
        return None
    seps = list(_TITLE_SEP_RE.finditer(title))
    starts = [0] + [m.end() for m in seps]
    ends = [m.start() for m in seps] + [len(title)]
    for i, a in enumerate(starts):
        for j in range(i, len(ends)):
            if i == 0 and j == len(ends) - 1:
                continue
            part = title[a : ends[j]].strip()
            if _norm(part) == target:
                return part
    return None


def _strip_site_name(title: str, site_name: str | None, host: str = "", loose: bool = False) -> str:
    """Drop a trailing " | Site Name" (or, for <title>, any short trailing part,
    and a leading "Site Name - " equal to the site's name)."""
    parts = _TITLE_SEP_RE.split(title)
    if len(parts) < 2:
        return title
    last = _norm(parts[-1]).replace(" ", "")
    names = _site_keys(site_name, host)
    head = title[: title.rfind(parts[-1])].rstrip(" |–—·»:-")
    if last and any(last == n or last.startswith(n) or n.startswith(last) for n in names if len(n) >= 3):
        return head or title
    if loose and len(parts[-1]) < 0.5 * len(head):
        return head or title
    if loose and _is_site_name(parts[0], site_name, host):
        m = _TITLE_SEP_RE.search(title)
        return title[m.end() :].strip() if m else title
    return title


def _site_name(page: _Page) -> str | None:
    candidates: list[Any] = [page.m("og:site_name")]
    pub = page.ld_get("publisher")
    if isinstance(pub, dict):
        candidates.append(pub.get("name"))
    for o in page.ld:
        if "website" in _ld_types(o):
            candidates.append(o.get("name"))
    candidates.append(page.m("application-name", "apple-mobile-web-app-title", "twitter:site"))
    for c in candidates:
        text = _plain(c, 200)
        if text and not (text.startswith("@") and " " not in text) and not _EMAIL_OR_URL_RE.search(text):
            return text
    return None
