"""Local publishers for `sources add` / `sources check` tests: one HTTP server per site layout on 127.0.0.1.

Each site is a dict of routes (path -> status, headers, body); articles carry JSON-LD with a date in the site's
UTC offset and a byline, so a sample extraction and a timezone hint can be checked.
"""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.crawler.test_hostile import BILLION_LAUGHS  # noqa: F401 — one hostile sitemap for both suites

PARA = ("<p>BYD and Tesla are cutting the price of battery packs for their electric cars, while charging networks "
        "in Europe and China keep growing; part {i} of the {slug} report follows the makers, the suppliers and the "
        "regulators who decide how quickly drivers switch to electric vehicles this year.</p>")


def article_html(slug: str, offset: str, lang: str = "en") -> bytes:
    title = f"Battery prices fall again: {slug.replace('-', ' ')}"
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
          "datePublished": f"2025-01-1{len(slug) % 9}T09:30:00{offset}", "author": {"@type": "Person", "name": "Ada Park"}}
    paras = "\n".join(PARA.format(i=i, slug=slug) for i in range(5))
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
            f'<script type="application/ld+json">{json.dumps(ld)}</script></head><body><nav>Home | EVs</nav>'
            f"<article><h1>{title}</h1><p class='byline'>By Ada Park</p>{paras}</article>"
            f"<footer>(c) Local Motors</footer></body></html>").encode()


def rss(base: str, paths: list[str], offset: str = "+0000") -> bytes:
    items = "".join(f"<item><title>{p}</title><link>{base}{p}</link>"
                    f"<pubDate>Mon, 1{i} Jan 2025 09:30:00 {offset}</pubDate></item>" for i, p in enumerate(paths))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Local</title><link>{base}/</link>'
            f"{items}</channel></rss>").encode()


def json_feed(base: str, paths: list[str]) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Local",
                       "items": [{"id": p, "url": base + p, "date_published": "2025-01-12T09:30:00+01:00"}
                                 for p in paths]}).encode()


def sitemap(base: str, paths: list[str], offset: str, news: bool = False) -> bytes:
    ns = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' if news else ""
    urls = "".join(f"<url><loc>{base}{p}</loc><lastmod>2025-01-1{i}T09:30:00{offset}</lastmod></url>"
                   for i, p in enumerate(paths))
    return (f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{ns}>'
            f"{urls}</urlset>").encode()


def sitemap_index(base: str, children: list[str]) -> bytes:
    items = "".join(f"<sitemap><loc>{base}{c}</loc><lastmod>2025-01-15</lastmod></sitemap>" for c in children)
    return (f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{items}</sitemapindex>").encode()


def homepage(head: str = "", lang: str = "en", title: str = "Local Motors") -> bytes:
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
            f"<body><h1>{title}</h1><a href='/2025/a/'>A story</a></body></html>").encode()


class Site:
    """One publisher on its own port: `site.routes[path] = (status, headers, body)`; hits are counted."""

    def __init__(self):
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.hits: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def html(self, path: str, body: bytes) -> None:
        self.routes[path] = (200, {"Content-Type": "text/html; charset=utf-8"}, body)

    def xml(self, path: str, body: bytes, ctype: str = "application/xml") -> None:
        self.routes[path] = (200, {"Content-Type": ctype}, body)

    def redirect(self, path: str, to: str, status: int = 301) -> None:
        self.routes[path] = (status, {"Location": to}, b"")

    def articles(self, slugs: list[str], offset: str, lang: str = "en") -> list[str]:
        paths = [f"/2025/{s}/" for s in slugs]
        for slug, path in zip(slugs, paths):
            self.html(path, article_html(slug, offset, lang))
        return paths

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                site.hits.append(path)
                status, headers, body = site.routes.get(path, (404, {"Content-Type": "text/html"}, b"<h1>404</h1>"))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def gzip_bomb() -> bytes:
    """A .xml.gz that inflates past DOWNLOAD_MAXSIZE (8 MiB) from ~30 KB."""
    return gzip.compress(b'<?xml version="1.0"?><urlset>' + b" " * 30_000_000 + b"</urlset>")
