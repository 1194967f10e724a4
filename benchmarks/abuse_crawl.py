"""The crawl half of benchmarks/abuse.py: tests/crawler's hostile publisher plus malformed feeds and sitemaps,
each crawled by the real spider in its own `newsagg crawl`; a crash is a traceback or a failed exit."""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "tests" / "crawler")]

from newsagg.demo import local_crawl_env  # noqa: E402
from newsagg.store import Store  # noqa: E402


def crawl_cases(base: str) -> dict[str, tuple[str, dict[str, tuple[int, dict, bytes]]]]:
    """case → (the feed or sitemap the crawl starts from, the routes the hostile publisher adds for it)."""
    from test_hostile import BILLION_LAUGHS

    def rss(*links: str) -> bytes:
        items = "".join(f"<item><title>t</title><link>{u}</link></item>" for u in links)
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode()

    def sitemap(*locs: str, index: bool = False) -> bytes:
        tag, inner = ("sitemapindex", "sitemap") if index else ("urlset", "url")
        body = "".join(f"<{inner}><loc>{u}</loc></{inner}>" for u in locs)
        ns = "http://www.sitemaps.org/schemas/sitemap/0.9"
        return f'<?xml version="1.0"?><{tag} xmlns="{ns}">{body}</{tag}>'.encode()

    xxe = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<rss version="2.0"><channel><title>&x;</title><item><link>' + base.encode() + b'/story</link></item>'
           b'</channel></rss>')
    bomb = gzip.compress(b'<?xml version="1.0"?><urlset>' + b" " * 60_000_000 + b"</urlset>")
    xml = {"Content-Type": "application/xml"}
    odd_links = [f"javascript:alert({i})" if i % 3 == 0 else f"ftp://x/{i}" if i % 3 == 1 else
                 f"{base}/x?{'a' * 3000}{i}" for i in range(500)]
    return {
        "control: a plain feed of one article": ("/f", {"/f": (200, xml, rss(f"{base}/story"))}),
        "feed that is not XML": ("/f", {"/f": (200, xml, b"<rss><channel><item><link>" + b"\xff\xfe" * 500)}),
        "feed with an external entity (XXE)": ("/f", {"/f": (200, xml, xxe)}),
        "sitemap billion laughs": ("/s.xml", {"/s.xml": (200, xml, BILLION_LAUGHS)}),
        "gzip sitemap bomb": ("/s.xml.gz", {"/s.xml.gz": (200, {"Content-Type": "application/x-gzip"}, bomb)}),
        "sitemap index pointing at itself": ("/s.xml", {"/s.xml": (200, xml, sitemap(f"{base}/s.xml", index=True))}),
        "feed of 500 links, bad schemes, 3 kB URLs": ("/f", {"/f": (200, xml, rss(*odd_links, f"{base}/story"))}),
        "feed served as HTML": ("/f", {"/f": (200, {"Content-Type": "text/html"}, b"<html><body>no</body></html>")}),
        "empty feed, 200": ("/f", {"/f": (200, xml, b"")}),
        "sitemap of 300 dead URLs of 2 kB": ("/s.xml", {"/s.xml": (200, xml, sitemap(
            *[f"{base}/missing/{'p' * 2000}{i}" for i in range(300)], f"{base}/story"))}),
        "sitemap of 20,000 URLs (over the size cap)": ("/s.xml", {"/s.xml": (200, xml, sitemap(
            *[f"{base}/missing/{'p' * 100}{i}" for i in range(20_000)]))}),
        "feed to a redirect loop and a gzip bomb": ("/f", {"/f": (200, xml, rss(f"{base}/loop-a", f"{base}/bomb",
                                                                                 f"{base}/story"))}),
    }


def hostile_publisher():
    """tests/crawler's hostile publisher (bombs, loops, huge pages …) with `extra` routes served first."""
    from test_hostile import Publisher

    class Hostile(Publisher):
        def routes(self) -> dict:
            self.extra: dict = {}
            return _Overlay(self, super().routes())

    publisher = Hostile()
    publisher.server.handle_error = lambda *_: None  # a crawler hanging up on a bomb is expected, not news
    return publisher


class _Overlay(dict):
    def __init__(self, owner, base: dict):
        super().__init__(base)
        self.owner = owner

    def get(self, key, default=None):
        return self.owner.extra.get(key) or super().get(key, default)


def run_crawls(tmp: Path) -> list[dict]:
    from test_hostile import article

    results = []
    for i, name in enumerate(crawl_cases("http://127.0.0.1")):
        publisher = hostile_publisher()
        entry, routes = crawl_cases(publisher.base)[name]  # the case with this server's address inside
        publisher.extra.update({"/story": (200, {}, article("Hostile publisher EV battery story")), **routes})
        kind = "sitemaps" if ".xml" in entry else "feeds"
        registry = tmp / f"crawl-{i}.toml"
        registry.write_text(f'[[source]]\nname = "hostile"\ntitle = "Hostile"\nhomepage = "{publisher.base}/"\n'
                            f'{kind} = ["{publisher.base}{entry}"]\nrobots_sitemaps = false\n'
                            f'allowed_domains = ["{publisher.base.split("//")[1]}"]\n', encoding="utf-8")
        (tmp / f"crawl-{i}.db").unlink(missing_ok=True)  # a --data directory may hold an earlier run's
        db = f"sqlite:///{tmp / f'crawl-{i}.db'}"
        env = local_crawl_env(NEWSAGG_DATABASE_URL=db, NEWSAGG_DATA_DIR=str(tmp), NEWSAGG_CONFIG=str(tmp / "none"),
                              NEWSAGG_CRAWL__RETRY_TIMES="1", NEWSAGG_CRAWL__DOWNLOAD_MAXSIZE=str(2 * 2**20),
                              # our own local site: AutoThrottle's start delay per dead link would dominate
                              NEWSAGG_CRAWL__AUTOTHROTTLE="false")
        t0 = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-m", "newsagg.app.cli", "crawl", "--registry", str(registry),
                                   "--quiet"], env=env, capture_output=True, text=True, timeout=300)
            crashed = done.returncode != 0 or "Traceback" in done.stderr
            store = Store(db)
            runs = store.runs(1)
            note = f"exit {done.returncode}, {store.count_articles()} stored, skips {runs[0].skips if runs else {}}"
            store.close()
        except subprocess.TimeoutExpired:
            crashed, note = True, "the crawl did not end within 300 s"
        finally:
            publisher.close()
        results.append({"kind": "crawl", "case": name, "status": None, "note": note, "crash": crashed,
                        "ms": round((time.perf_counter() - t0) * 1000)})
        print(f"  crawl {name:<42} {'CRASH' if crashed else 'ok':<6} {note[:160]}", flush=True)
    return results
