"""What kind of page this is: paywalled or not, article or not (index pages, home pages)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from crawler.extract.body import MIN_ARTICLE_BODY
from crawler.extract.page import INDEX_TYPES, _classid, _ld_types, _Page

_PAYWALL_MARKUP_RE = re.compile(
    r"(?:^|[\s_-])(?:paywall|pay-wall|regwall|subscriber-only|subscribers-only|premium-content|"
    r"piano-offer|meteredcontent|subscription-required|locked-content|article-locked)(?:$|[\s_-])",
    re.I,
)
PAYWALL_SHORT_BODY = 1500


def _false_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value is False
    if isinstance(value, str):
        return value.strip().lower() in ("false", "no", "0")
    return False


def _paywalled(page: _Page, body: str) -> bool:
    for o in page.ld_articles or page.ld:
        if _false_flag(o.get("isAccessibleForFree")):
            return True
        parts = o.get("hasPart")
        parts = parts if isinstance(parts, list) else [parts]
        for part in parts[:20]:
            if isinstance(part, dict) and _false_flag(part.get("isAccessibleForFree")) and part.get("cssSelector"):
                return True
    tier = (page.m("article:content_tier") or "").lower()
    if tier == "locked":
        return True
    if len(body) < PAYWALL_SHORT_BODY:
        try:
            body_el = page.tree.find("body")
            scope = body_el if body_el is not None else page.tree
            for el in scope.iter():
                if isinstance(el.tag, str) and (el.get("class") or el.get("id")) and _PAYWALL_MARKUP_RE.search(_classid(el)):
                    return True
        except Exception:  # noqa: BLE001
            pass
    return False


# listing URLs: /tag/<x>/, /category/<x>/page/2/, /author/<x>, /search, /page/3, /latest, /index.html
_INDEX_PATH_RE = re.compile(
    r"/(?:tags?|category|categories|topics?|section|sections|authors?|archives?)(?:/[^/]+)?/?(?:page/\d+/?)?$"
    r"|/(?:page/\d+|search|latest|index(?:\.\w+)?)/?$",
    re.I,
)
_DATE_PATH_RE = re.compile(r"/(?:19|20)\d{2}/\d{1,2}/")


def _is_article(page: _Page, body: str, published: datetime | None, authors: list[str]) -> bool:
    try:
        parts = urlsplit(page.url or "")
    except Exception:  # noqa: BLE001
        parts = urlsplit("")
    path = parts.path or "/"
    if path in ("", "/") and not parts.query:
        return False
    if len(body) < MIN_ARTICLE_BODY:
        return False
    og_type = (page.m("og:type") or "").lower()
    strong = bool(page.ld_articles) or og_type == "article" or bool(page.m("article:published_time"))
    if _INDEX_PATH_RE.search(path) and not strong:
        return False
    main_types: set[str] = set()
    for o in page.ld:
        main_types |= _ld_types(o)
    if not strong and main_types & INDEX_TYPES - {"website"}:
        return False
    if strong:
        return True
    if og_type and og_type not in ("article", "website"):
        return False
    slug = path.rstrip("/").rsplit("/", 1)[-1]
    article_like_url = slug.count("-") >= 3 or bool(_DATE_PATH_RE.search(path)) or bool(re.search(r"\d{5,}", slug))
    if len(body) >= 1500 or (len(body) >= 600 and (published is not None or bool(authors))):
        return True
    return article_like_url and len(body) >= 400
