"""The parsed page, read once: the lxml tree, meta tags, <link>s and JSON-LD objects.

Also the DOM and URL helpers that the body and metadata stages share."""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Iterator
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from crawler.extract.text import _clean_ws, _SURROGATE_RE
from newsagg.text import strip_control

LOG = logging.getLogger(__name__)

# Inputs beyond this many characters are cut (a news page is rarely above 3 MB;
# the rest is usually inline JSON/JS and only costs parse time).
MAX_HTML_CHARS = 6_000_000
# Trafilatura's cost grows faster than linearly with the element count; real article
# pages stay far below this, beyond it only the beginning of the page is analysed.
MAX_ELEMENTS = 15_000


# --------------------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------------------


def _parse(html: Any) -> HtmlElement | None:
    if html is None:
        return None
    if isinstance(html, (bytes, bytearray)):
        html = bytes(html).decode("utf-8", errors="replace")
    if not isinstance(html, str):
        return None
    if len(html) > MAX_HTML_CHARS:
        html = html[:MAX_HTML_CHARS]
    # NULs, control characters and lone surrogates (bad decoding upstream) break libxml2
    html = _SURROGATE_RE.sub("\ufffd", strip_control(html))
    if not html.strip():
        return None
    tree = _load(html)
    if tree is None:
        return None
    count = sum(1 for _ in tree.iter())
    if count > MAX_ELEMENTS:
        # hostile or pathological page: keep its beginning (head + start of body)
        keep = int(len(html) * MAX_ELEMENTS / count * 0.9)
        truncated = _load(html[:keep])
        if truncated is not None:
            tree = truncated
    return tree


def _load(html: str) -> HtmlElement | None:
    try:
        tree = load_html(html)
        if tree is None:
            # fragments without <html> are rejected by trafilatura's loader
            tree = lxml_html.document_fromstring(html.encode("utf-8", "replace"))
    except Exception:  # noqa: BLE001 - untrusted input, never raise
        LOG.debug("parse failed", exc_info=True)
        return None
    if tree is None or not isinstance(tree, HtmlElement):
        return None
    return tree


def _text_of(el: etree._Element) -> str:
    try:
        # libxml2's own text serialisation: same text as "".join(itertext()), without a Python object per node
        return _clean_ws(etree.tostring(el, method="text", encoding=str, with_tail=False))
    except Exception:  # noqa: BLE001
        return ""


def _short_raw_text(el: etree._Element, limit: int) -> str | None:
    """The element's raw text, or None as soon as it holds more than `limit` non-space characters.

    Callers looking for a short line (a byline) must not serialise every large container on the way."""
    pieces, visible = [], 0
    for piece in el.itertext():
        visible += len("".join(piece.split()))
        if visible > limit:
            return None
        pieces.append(piece)
    return "".join(pieces)


def _classid(el: etree._Element) -> str:
    cls = el.get("class") or ""
    eid = el.get("id") or ""
    if len(cls) > 300:
        cls = cls[:300]
    if len(eid) > 100:
        eid = eid[:100]
    return f"{cls} {eid}".lower()


# Bylines and dates found inside comments or forms belong to readers, not the article.
_COMMENTISH_RE = re.compile(
    r"(?:^|[\s_-])(?:comments?|commentlist|respond|reply|replies|disqus|discussion)(?:$|[\s_-])", re.I
)


def _in_comments_or_form(el: etree._Element) -> bool:
    for node in [el, *el.iterancestors()]:
        if node.tag == "form":
            return True
        if _COMMENTISH_RE.search(_classid(node)):
            return True
    return False


META_LINE_MAX = 300  # a meta line longer than this is prose, not a date/byline block


# --------------------------------------------------------------------------------------
# page context: meta tags, links and JSON-LD, read once
# --------------------------------------------------------------------------------------

ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "reviewnewsarticle",
    "backgroundnewsarticle",
    "askpublicnewsarticle",
    "blogposting",
    "liveblogposting",
    "techarticle",
    "report",
    "scholarlyarticle",
    "socialmediaposting",
}
INDEX_TYPES = {"collectionpage", "itemlist", "searchresultspage", "website", "profilepage"}
MAX_LD_SCRIPT_CHARS = 2_000_000


def _ld_types(obj: dict) -> set[str]:
    t = obj.get("@type")
    names = [t] if isinstance(t, str) else [x for x in t if isinstance(x, str)] if isinstance(t, list) else []
    # "NewsArticle", "schema:NewsArticle", "https://schema.org/NewsArticle"
    return {re.split(r"[/:]", x.strip().lower())[-1] for x in names[:10]}


def _walk_ld(obj: Any, depth: int = 0) -> Iterator[dict]:
    if depth > 6:
        return
    if isinstance(obj, list):
        for x in obj[:200]:
            yield from _walk_ld(x, depth + 1)
    elif isinstance(obj, dict):
        yield obj
        # not itemListElement: articles listed on an index page are not this page's article
        for key in ("@graph", "mainEntity"):
            if key in obj:
                yield from _walk_ld(obj[key], depth + 1)


def _jsonld_objects(tree: HtmlElement) -> list[dict]:
    """All JSON-LD objects of the page (flattened @graph/lists); broken blocks are skipped."""
    out: list[dict] = []
    try:
        scripts = tree.xpath('//script[contains(translate(@type,"LDJSON","ldjson"),"ld+json")]')
    except Exception:  # noqa: BLE001
        return out
    for script in scripts[:30]:
        raw = (script.text or "").strip()
        if not raw or len(raw) > MAX_LD_SCRIPT_CHARS:
            continue
        raw = re.sub(r"^<!--|-->$|^//\s*<!\[CDATA\[|//\s*\]\]>$", "", raw).strip()
        try:
            data = json.loads(raw, strict=False)
        except Exception:  # noqa: BLE001 - broken JSON-LD is common: one repair attempt, else skip
            try:
                data = json.loads(re.sub(r",\s*([}\]])", r"\1", raw), strict=False)
            except Exception:  # noqa: BLE001
                continue
        out.extend(_walk_ld(data))
    return out


class _Page:
    """The parsed page with its metadata sources, read once."""

    def __init__(self, tree: HtmlElement, url: str) -> None:
        self.tree = tree
        self.url = url
        self.meta: dict[str, list[str]] = {}
        self.links: dict[str, list[str]] = {}
        head_and_body = tree
        try:
            for m in head_and_body.iter("meta"):
                key = (m.get("property") or m.get("name") or m.get("itemprop") or m.get("http-equiv") or "").strip()
                val = m.get("content")
                if not key or val is None:
                    continue
                key = key.lower()[:100]
                val = _clean_ws(val[:5000])
                if val:
                    self.meta.setdefault(key, []).append(val)
            for ln in tree.iter("link"):
                rels = (ln.get("rel") or "").lower().split()
                href = ln.get("href")
                if href:
                    for rel in rels:
                        self.links.setdefault(rel, []).append(href.strip()[:4096])
        except Exception:  # noqa: BLE001
            LOG.debug("meta scan failed", exc_info=True)
        self.ld = _jsonld_objects(tree)
        self.ld_articles = [o for o in self.ld if _ld_types(o) & ARTICLE_TYPES]
        self.article_ld: dict = self.ld_articles[0] if self.ld_articles else {}
        # prefer the article object that carries the most fields (pages list related articles too)
        if len(self.ld_articles) > 1:
            self.article_ld = max(
                self.ld_articles,
                key=lambda o: (bool(o.get("articleBody")), bool(o.get("datePublished")), bool(o.get("headline"))),
            )

    def m(self, *keys: str) -> str | None:
        for k in keys:
            vals = self.meta.get(k)
            if vals:
                return vals[0]
        return None

    def m_all(self, *keys: str) -> list[str]:
        out: list[str] = []
        for k in keys:
            out.extend(self.meta.get(k, []))
        return out

    def ld_get(self, key: str) -> Any:
        return self.article_ld.get(key)


# --------------------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------------------


def _abs_http_url(value: Any, base: str) -> str | None:
    """Absolute http(s) URL or None (javascript:, data:, garbage)."""
    if not isinstance(value, str):
        return None
    value = _clean_ws(value).replace(" ", "%20")
    if not value or len(value) > 2048:
        return None
    try:
        absolute = urljoin(base or "", value)
        parts = urlsplit(absolute)
    except Exception:  # noqa: BLE001
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return absolute


def _host(url: str | None) -> str:
    try:
        return (urlsplit(url).hostname or "") if url else ""
    except ValueError:
        return ""


def _ld_url(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for k in ("@id", "url", "contentUrl"):
            if isinstance(value.get(k), str):
                return value[k]
    if isinstance(value, list):
        for v in value:
            u = _ld_url(v)
            if u:
                return u
    return None
