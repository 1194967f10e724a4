"""Serve the four demo outlets on 127.0.0.1, one port each (so each has its own robots.txt and politeness slot).

Feeds and sitemaps answer conditional requests (ETag / Last-Modified), every request is logged (tests check
that a re-crawl fetches no article again), and `ground_truth()` says what a correct crawl stores.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from dataclasses import dataclass
from datetime import timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from newsagg.demo.content import OUTLETS, DemoPage, build_pages, pages_by_outlet
from newsagg.demo.feeds import render_atom, render_news_sitemap, render_rss, render_sitemap, render_sitemap_index
from newsagg.demo.templates import SITE_NAMES, render_article, render_home, render_redesigned

TIMEZONES = {
    "voltwire": "UTC",
    "circuitchassis": "America/Los_Angeles",
    "autopulse": "Asia/Shanghai",
    "gigadrive": "Europe/Berlin",
}
ROBOTS = {
    "voltwire": "User-agent: *\nDisallow: /private/\nCrawl-delay: 0.2\nSitemap: {base}/sitemap_index.xml\n",
    "circuitchassis": "User-agent: *\nDisallow: /search\nSitemap: {base}/sitemap.xml\n",
    "autopulse": "User-agent: *\nDisallow: /search\nSitemap: {base}/sitemaps/index.xml\n",
    "gigadrive": "User-agent: *\nCrawl-delay: 0.2\nDisallow: /account/\nSitemap: {base}/sitemap-news.xml\n",
}
FEED_PATHS = {
    "voltwire": "/feed.xml",
    "circuitchassis": "/atom.xml",
    "autopulse": "/rss",
    "gigadrive": "/feeds/latest.atom",
}
FEED_SIZE = 15
TRACKING_QUERY = "?utm_source=rss&utm_medium=feed&utm_campaign=autopulse"
MISSING = {"voltwire": "/2024/05/31/this-story-was-pulled/", "gigadrive": "/stories/retracted-review"}
DISALLOWED_IN_SITEMAP = {"voltwire": "/private/draft-preview/"}
IMAGE_PREFIXES = ("/img/", "/media/", "/images/")  # the lead images the templates reference
IMAGE_COLOURS = {"voltwire": "#0b7a75", "circuitchassis": "#3b3f8f", "autopulse": "#b3412f", "gigadrive": "#6a3d9a"}


def lead_image_svg(outlet: str, path: str) -> bytes:
    """A placeholder lead image in the outlet's colour (the demo ships no photos)."""
    shade = int(hashlib.sha1(path.encode()).hexdigest()[:2], 16) % 60
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630" viewBox="0 0 1200 630">'
            f'<rect width="1200" height="630" fill="{IMAGE_COLOURS[outlet]}"/>'
            f'<circle cx="{900 + shade}" cy="{300 - shade}" r="{180 + shade}" fill="#ffffff" opacity="0.12"/>'
            f'<text x="60" y="560" font-family="sans-serif" font-size="64" fill="#ffffff" opacity="0.85">'
            f'{SITE_NAMES[outlet].replace("&", "&amp;")}</text></svg>').encode()


def typographic(text: str) -> str:
    """Curly apostrophes, as many CMSs print them (non-ASCII text for the charset cases)."""
    return text.replace("'", "\u2019")


@dataclass(frozen=True)
class LoggedRequest:
    outlet: str
    path: str
    status: int
    at: float = 0.0  # time.time() when the request arrived (per-site request rates in the scale-out tests)


class DemoSites:
    """The demo outlets, started together: `with DemoSites() as sites: sites.url_for("voltwire", "/")`."""

    def __init__(self, host: str = "127.0.0.1", base_port: int = 0):
        self.host = host
        self.base_port = base_port
        self.ports: dict[str, int] = {}
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._servers: list[ThreadingHTTPServer] = []
        self.redesigned: set[str] = set()  # outlets whose article pages use render_redesigned (health tests)

    # ---- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> "DemoSites":
        for i, outlet in enumerate(OUTLETS):
            port = self.base_port + i if self.base_port else 0
            server = ThreadingHTTPServer((self.host, port), _make_handler(self, outlet))
            server.daemon_threads = True
            self.ports[outlet] = server.server_address[1]
            self._servers.append(server)
            threading.Thread(target=server.serve_forever, name=f"demo-{outlet}", daemon=True).start()
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()

    def __enter__(self) -> "DemoSites":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- addresses -----------------------------------------------------------------------------------
    def base_url(self, outlet: str) -> str:
        return f"http://{self.host}:{self.ports[outlet]}"

    def url_for(self, outlet: str, path: str) -> str:
        return self.base_url(outlet) + path

    def log(self, outlet: str, path: str, status: int, at: float | None = None) -> None:
        with self._lock:
            self.requests.append(LoggedRequest(outlet, path, status, time.time() if at is None else at))

    def article_requests(self) -> list[LoggedRequest]:
        """Requests for article pages (not feeds, sitemaps or robots.txt)."""
        known = {(p.outlet, p.path) for p in build_pages()}
        return [r for r in self.requests if (r.outlet, r.path.split("?")[0]) in known]

    # ---- what a crawler should find ------------------------------------------------------------------
    def ground_truth(self) -> list[dict]:
        """One entry per article URL the sites expose: its event, on-topic flag and expected outcome."""
        truth = []
        for page in build_pages():
            a = page.article
            title = typographic(a.title) if page.defect in ("wrong-charset", "no-charset") else a.title
            truth.append({
                "url": self.url_for(page.outlet, page.path),
                "outlet": page.outlet,
                "event_id": a.event_id,
                "topic": a.topic,
                "on_topic": a.on_topic,
                "expect": page.expect,
                "title": title,
                "published": a.published.astimezone(timezone.utc).isoformat(),
                "authors": list(a.authors),
                "paywalled": page.paywalled,
                "original_url": self.url_for(*page.original) if page.original else None,
                "defect": page.defect,
            })
            if page.outlet == "gigadrive" and not page.canonical:
                truth.append({**truth[-1], "url": self.url_for("gigadrive", "/amp" + page.path),
                              "expect": "duplicate", "duplicate_of": truth[-1]["url"]})
        for outlet, path in MISSING.items():
            truth.append({"url": self.url_for(outlet, path), "outlet": outlet, "event_id": None,
                          "on_topic": None, "expect": "skipped/http_404"})
        return truth

    def registry_toml(self) -> str:
        """A source registry for these sites, with their live ports."""
        out = ["# Demo outlets served by `newsagg demo-sites` (generated; ports change per run).\n"]
        for outlet in OUTLETS:
            base = self.base_url(outlet)
            netloc = urlsplit(base).netloc
            sitemaps = {"voltwire": ["/news-sitemap.xml"], "gigadrive": ["/sitemap_index.xml"]}.get(outlet, [])
            out.append(
                f'[[source]]\nname = "{outlet}"\ntitle = "{SITE_NAMES[outlet]}"\nhomepage = "{base}/"\n'
                f'language = "en"\ntimezone = "{TIMEZONES[outlet]}"\n'
                f'feeds = ["{base}{FEED_PATHS[outlet]}"]\n'
                f"sitemaps = [{', '.join(repr(base + s).replace(chr(39), chr(34)) for s in sitemaps)}]\n"
                f'robots_sitemaps = true\nallowed_domains = ["{netloc}"]\n'
                f'topics = ["ev", "tech"]\nverified = true\n'
            )
        return "\n".join(out)

    def write_files(self, directory: Path) -> tuple[Path, Path]:
        """Write demo-sources.toml and demo-ground-truth.json for this run's ports."""
        import json

        directory.mkdir(parents=True, exist_ok=True)
        registry = directory / "demo-sources.toml"
        registry.write_text(self.registry_toml(), encoding="utf-8")
        truth = directory / "demo-ground-truth.json"
        truth.write_text(json.dumps(self.ground_truth(), indent=1), encoding="utf-8")
        return registry, truth


# ---- request handling ----------------------------------------------------------------------------------
def _article_html(sites: DemoSites, page: DemoPage, amp: bool) -> tuple[bytes, str]:
    if page.outlet in sites.redesigned:
        return render_redesigned(page).encode("utf-8"), "text/html; charset=utf-8"
    html = render_article(page, sites.url_for, amp=amp)
    if page.defect in ("wrong-charset", "no-charset"):
        html = typographic(html)
    if page.defect == "no-charset":
        return html.replace('<meta charset="utf-8">', "").encode("utf-8"), "text/html"
    if page.defect == "wrong-charset":
        # The bytes are UTF-8 but the server claims Latin-1: a classic misconfigured CMS.
        return html.encode("utf-8"), "text/html; charset=iso-8859-1"
    body = html.encode("utf-8")
    if page.defect == "truncated":
        body = body[: int(len(body) * 0.6)]
    return body, "text/html; charset=utf-8"


def _documents(sites: DemoSites, outlet: str) -> dict[str, tuple[str, str]]:
    """Feeds, sitemaps and robots.txt of one outlet: path -> (text, content type)."""
    pages = sorted(pages_by_outlet(outlet), key=lambda p: p.article.published, reverse=True)
    base = sites.base_url(outlet)
    url = lambda p: sites.url_for(outlet, p.path)  # noqa: E731
    feed_pages = pages[:FEED_SIZE]
    feed_urls = [url(p) for p in feed_pages]
    if outlet == "autopulse":
        feed_urls = [u + TRACKING_QUERY for u in feed_urls]
    if outlet == "gigadrive" and feed_pages:
        first_plain = next((i for i, p in enumerate(feed_pages) if not p.canonical), None)
        if first_plain is not None:  # one feed entry links the AMP twin
            feed_urls[first_plain] = sites.url_for(outlet, "/amp" + feed_pages[first_plain].path)
    entries = list(zip(feed_pages, feed_urls))
    if outlet in MISSING:
        entries.insert(1, (None, sites.url_for(outlet, MISSING[outlet])))
    docs = {"/robots.txt": (ROBOTS[outlet].format(base=base), "text/plain")}
    title = SITE_NAMES[outlet]
    sitemap_pages = [(url(p), p.article.updated or p.article.published) for p in pages]
    if outlet in DISALLOWED_IN_SITEMAP:
        sitemap_pages.append((sites.url_for(outlet, DISALLOWED_IN_SITEMAP[outlet]), pages[0].article.published))
    if outlet in ("voltwire", "autopulse"):
        docs[FEED_PATHS[outlet]] = (render_rss(title, base, entries), "application/rss+xml")
    else:
        docs[FEED_PATHS[outlet]] = (render_atom(title, base, entries), "application/atom+xml")
    by_year: dict[int, list] = {}
    for u, when in sitemap_pages:
        by_year.setdefault(when.year, []).append((u, when))
    if outlet == "circuitchassis":
        docs["/sitemap.xml"] = (render_sitemap(sitemap_pages), "application/xml")
    else:
        prefix = "/sitemaps/" if outlet == "autopulse" else "/sitemap-"
        index_path = "/sitemaps/index.xml" if outlet == "autopulse" else "/sitemap_index.xml"
        children = {f"{prefix}{year}.xml": items for year, items in by_year.items()}
        docs[index_path] = (render_sitemap_index([base + p for p in children]), "application/xml")
        for child, items in children.items():
            docs[child] = (render_sitemap(items), "application/xml")
    if outlet in ("voltwire", "gigadrive"):
        news = [(url(p), p.article.title, p.article.published) for p in pages[:40]]
        path = "/news-sitemap.xml" if outlet == "voltwire" else "/sitemap-news.xml"
        docs[path] = (render_news_sitemap(title, news), "application/xml")
    return docs


def _make_handler(sites: DemoSites, outlet: str) -> type[BaseHTTPRequestHandler]:
    pages = {p.path: p for p in pages_by_outlet(outlet)}
    docs_cache: dict[str, tuple[str, str]] = {}

    class Handler(BaseHTTPRequestHandler):
        server_version = "demo-news/1.0"

        def log_message(self, *args) -> None:  # quiet: the request log is kept in `sites.requests`
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            arrived = time.time()
            path = urlsplit(self.path).path
            if not docs_cache:
                docs_cache.update(_documents(sites, outlet))
            amp = path.startswith("/amp/")
            page = pages.get(path[4:] if amp else path)
            if path in docs_cache:
                text, ctype = docs_cache[path]
                self._send_document(path, text.encode("utf-8"), ctype)
            elif page is not None:
                body, ctype = _article_html(sites, page, amp)
                self._send(200, body, ctype)
            elif path.startswith(IMAGE_PREFIXES):
                self._send(200, lead_image_svg(outlet, path), "image/svg+xml")
            elif path == "/":
                html = render_home(outlet, sorted(pages.values(), key=lambda p: p.article.published, reverse=True),
                                   sites.url_for)
                self._send(200, html.encode("utf-8"), "text/html; charset=utf-8")
            else:
                self._send(404, b"<html><body><h1>Not found</h1></body></html>", "text/html; charset=utf-8")
            sites.log(outlet, self.path, self._status, arrived)

        def _send_document(self, path: str, body: bytes, ctype: str) -> None:
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", ctype, etag=etag)
                return
            if "gzip" in (self.headers.get("Accept-Encoding") or "") and path.endswith(".xml"):
                self._send(200, gzip.compress(body), ctype, etag=etag, encoding="gzip")
            else:
                self._send(200, body, ctype, etag=etag)

        def _send(self, status: int, body: bytes, ctype: str, etag: str | None = None,
                  encoding: str | None = None) -> None:
            self._status = status
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if etag:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", format_datetime(_newest(outlet), usegmt=True))
            if encoding:
                self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_HEAD = do_GET

    return Handler


def _newest(outlet: str):
    return max(p.article.published for p in pages_by_outlet(outlet)).astimezone(timezone.utc)

