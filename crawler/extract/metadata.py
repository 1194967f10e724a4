"""The remaining metadata fields: canonical/AMP URLs, lead image, language, tags, summary."""

from __future__ import annotations

import re
from typing import Any

from crawler.extract.clean import _BODY_CLASS_RE
from crawler.extract.page import _abs_http_url, _ld_url, _Page
from crawler.extract.text import _clean_ws, _plain

def _canonical(page: _Page) -> str | None:
    candidates: list[Any] = []
    candidates.extend(page.links.get("canonical", [])[:1])
    candidates.append(page.m("og:url"))
    candidates.append(_ld_url(page.ld_get("mainEntityOfPage")))
    candidates.append(page.ld_get("url") if isinstance(page.ld_get("url"), str) else None)
    for c in candidates:
        u = _abs_http_url(c, page.url)
        if u:
            return u
    return None


def _amp_url(page: _Page) -> str | None:
    for href in page.links.get("amphtml", [])[:1]:
        return _abs_http_url(href, page.url)
    return None


_IMG_SKIP_RE = re.compile(r"logo|icon|avatar|sprite|spacer|pixel|blank|placeholder|badge", re.I)


def _lead_image(page: _Page) -> str | None:
    candidates: list[Any] = [
        page.m("og:image:secure_url", "og:image:url", "og:image"),
        page.m("twitter:image", "twitter:image:src"),
        _ld_url(page.ld_get("image")),
        _ld_url(page.ld_get("thumbnailUrl")),
    ]
    for c in candidates:
        u = _abs_http_url(c, page.url)
        if u:
            return u
    # else the first real image inside the article container (never the site logo)
    try:
        containers = page.tree.xpath('//article | //*[@itemprop="articleBody"] | //main')
        if not containers:
            containers = [el for el in page.tree.iter("div", "section") if _BODY_CLASS_RE.search(el.get("class") or "")]
        for container in containers[:3]:
            for img in container.iter("img"):
                if img.get("width") in ("1", "0") or img.get("height") in ("1", "0"):
                    continue
                for attr in ("src", "data-src", "data-original", "data-lazy-src"):
                    u = _abs_http_url(img.get(attr), page.url)
                    if u and not _IMG_SKIP_RE.search(u):
                        return u
    except Exception:  # noqa: BLE001
        pass
    return None



# --------------------------------------------------------------------------------------
# language, tags, summary
# --------------------------------------------------------------------------------------

_LANG_RE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]{2,8})*$")

# tiny stop-word guesser for pages that do not declare their language
_STOPWORDS = {
    "en": "the and of to in is that for it with as was on are by this be from have",
    "de": "der die und das ist nicht zu den von mit sich des auf für im dem ein eine",
    "fr": "le la les et des est une pour dans que qui pas sur au avec du ce il",
    "es": "el la de que y en los del se las por un para con una es al lo",
    "it": "il di che la è per un una non sono del della con gli le si da",
    "pt": "o a de que e do da em um para é com não uma os no se na por",
    "nl": "de het een en van is dat op te in zijn voor met niet die er",
}
_STOPSETS = {k: set(v.split()) for k, v in _STOPWORDS.items()}


def _guess_language(text: str) -> str | None:
    sample = text[:4000]
    if not sample.strip():
        return None
    letters = [ch for ch in sample if ch.isalpha()]
    if not letters:
        return None
    scripts = {"ja": 0, "zh": 0, "ko": 0, "ru": 0, "ar": 0, "el": 0, "he": 0, "th": 0, "hi": 0}
    for ch in letters:
        o = ord(ch)
        if 0x3040 <= o <= 0x30FF:
            scripts["ja"] += 1
        elif 0x4E00 <= o <= 0x9FFF:
            scripts["zh"] += 1
        elif 0xAC00 <= o <= 0xD7AF:
            scripts["ko"] += 1
        elif 0x0400 <= o <= 0x04FF:
            scripts["ru"] += 1
        elif 0x0600 <= o <= 0x06FF:
            scripts["ar"] += 1
        elif 0x0370 <= o <= 0x03FF:
            scripts["el"] += 1
        elif 0x0590 <= o <= 0x05FF:
            scripts["he"] += 1
        elif 0x0E00 <= o <= 0x0E7F:
            scripts["th"] += 1
        elif 0x0900 <= o <= 0x097F:
            scripts["hi"] += 1
    if scripts["ja"] > 0.05 * len(letters):
        return "ja"
    best_script = max(scripts, key=lambda k: scripts[k])
    if scripts[best_script] > 0.3 * len(letters):
        return best_script
    words = re.findall(r"[a-zà-ÿ]+", sample.lower())
    if len(words) < 20:
        return None
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOPSETS.items()}
    lang = max(scores, key=lambda k: scores[k])
    return lang if scores[lang] >= 0.1 * len(words) else None


def _language(page: _Page, body: str) -> str | None:
    candidates: list[Any] = []
    try:
        candidates.append(page.tree.get("lang") or page.tree.get("xml:lang"))
    except Exception:  # noqa: BLE001
        pass
    candidates += [
        page.m("og:locale"),
        page.ld_get("inLanguage"),
        page.m("content-language", "dc.language", "language"),
    ]
    for c in candidates:
        if isinstance(c, dict):
            c = c.get("name") or c.get("alternateName")
        if not isinstance(c, str):
            continue
        m = _LANG_RE.match(c.strip())
        if m:
            return m.group(1).lower()
    return _guess_language(body)


def _tags(page: _Page) -> list[str]:
    raw: list[str] = list(page.m_all("article:tag"))
    kw = page.ld_get("keywords")
    if isinstance(kw, str):
        raw.extend(kw.split(","))
    elif isinstance(kw, list):
        raw.extend(k for k in kw if isinstance(k, str))
    for v in page.m_all("news_keywords", "parsely-tags", "sailthru.tags"):
        raw.extend(v.split(","))
    out: list[str] = []
    seen: set[str] = set()
    for t in raw:
        t = _plain(t, 200).lstrip("#").strip()
        # "@river", "/article", "_no-apple-news": CMS-internal markers, not topics
        if not t or len(t) > 100 or not t[0].isalnum():
            continue
        key = t.lower()
        if key in seen:
            continue
        seen.add(key)
        out.append(t)
    return out[:50]


def _summary(page: _Page, body: str) -> str:
    for c in (
        page.ld_get("description"),
        page.m("description"),
        page.m("og:description"),
        page.m("twitter:description"),
        page.ld_get("abstract"),
    ):
        text = _plain(c, 1000)
        if len(text) >= 20:
            return text
    return _first_sentences(body)


def _first_sentences(body: str, limit: int = 300) -> str:
    text = _clean_ws(body)
    if len(text) <= limit:
        return text
    sentences = re.split(r"(?<=[.!?。])\s+", text)
    out = ""
    for s in sentences:
        if out and len(out) + len(s) + 1 > limit:
            break
        out = f"{out} {s}".strip()
    return out[:limit] if out else text[:limit].rsplit(" ", 1)[0]
