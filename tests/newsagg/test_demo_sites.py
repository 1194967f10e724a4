"""The bundled demo outlets: content volume, feeds and sitemaps that parse, every ground-truth URL served."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from collections import defaultdict

import feedparser
from scrapy.utils.sitemap import Sitemap

from newsagg.demo.content import OUTLETS, build_pages, load_articles
from newsagg.demo.server import FEED_PATHS, DemoSites


def fetch(url: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def test_content_meets_the_brief():
    articles = load_articles()
    assert len(articles) >= 120
    outlets_per_event = defaultdict(set)
    for a in articles:
        outlets_per_event[a.event_id].add(a.outlet)
        assert a.published.tzinfo is not None and a.authors and len(a.body) >= 3
    assert sum(1 for outlets in outlets_per_event.values() if len(outlets) >= 3) >= 25
    assert sum(1 for a in articles if not a.on_topic) >= 3
    expects = {p.expect for p in build_pages()}
    assert {"syndicated", "paywalled", "skipped/off_topic"} <= expects
    defects = {p.defect for p in build_pages()}
    assert {"truncated", "wrong-charset", "no-charset"} <= defects


def test_every_ground_truth_url_is_served(demo_sites):
    for entry in demo_sites.ground_truth():
        status, body, _ = fetch(entry["url"])
        if entry["expect"] == "skipped/http_404":
            assert status == 404, entry["url"]
        else:
            assert status == 200 and len(body) > 500, entry["url"]


def test_feeds_parse_and_list_served_articles(demo_sites):
    truth_urls = {e["url"] for e in demo_sites.ground_truth()}
    for outlet in OUTLETS:
        status, body, headers = fetch(demo_sites.url_for(outlet, FEED_PATHS[outlet]))
        feed = feedparser.parse(body)
        assert status == 200 and not feed.bozo, outlet
        links = [e.link.split("?")[0] for e in feed.entries]
        assert len(links) >= 10
        assert all(link in truth_urls for link in links), outlet
        assert all(e.get("published_parsed") for e in feed.entries)


def test_conditional_get_answers_304(demo_sites):
    url = demo_sites.url_for("voltwire", "/feed.xml")
    _, _, headers = fetch(url)
    status, body, _ = fetch(url, {"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""


def _sitemap_urls(url: str, depth: int = 0) -> set[str]:
    status, body, headers = fetch(url, {"Accept-Encoding": "gzip"})
    assert status == 200, url
    if headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    sitemap = Sitemap(body)
    assert sitemap.type in ("urlset", "sitemapindex")
    locs = {entry["loc"] for entry in sitemap}
    if sitemap.type == "sitemapindex":
        assert depth == 0
        return set().union(*(_sitemap_urls(loc, depth + 1) for loc in locs))
    return locs


def test_sitemaps_from_robots_cover_every_article(demo_sites):
    kinds = set()
    for outlet in OUTLETS:
        _, robots, _ = fetch(demo_sites.url_for(outlet, "/robots.txt"))
        sitemap_url = next(line.split(": ", 1)[1] for line in robots.decode().splitlines()
                           if line.startswith("Sitemap:"))
        urls = _sitemap_urls(sitemap_url)
        expected = {demo_sites.url_for(p.outlet, p.path) for p in build_pages() if p.outlet == outlet}
        assert expected <= urls, outlet
        _, body, _ = fetch(sitemap_url)
        kinds.add("index" if b"<sitemapindex" in body else "news" if b"sitemap-news" in body else "plain")
    assert {"index", "news"} <= kinds


def test_page_variants(demo_sites):
    truth = demo_sites.ground_truth()
    by_expect = defaultdict(list)
    for e in truth:
        by_expect[e["expect"]].append(e)
    syndicated = by_expect["syndicated"][0]
    _, body, _ = fetch(syndicated["url"])
    assert syndicated["original_url"] is not None
    amp = by_expect["duplicate"][0]
    _, body, _ = fetch(amp["url"])
    assert b"<html amp" in body and amp["duplicate_of"].encode() in body
    paywalled = by_expect["paywalled"][0]
    _, body, _ = fetch(paywalled["url"])
    assert b'"isAccessibleForFree": false' in body
    wrong = next(e for e in truth if e.get("defect") == "wrong-charset")
    _, body, headers = fetch(wrong["url"])
    assert "iso-8859-1" in headers["Content-Type"] and "\u2019".encode() in body


def test_registry_file_points_at_live_ports(demo_sites, tmp_path):
    from crawler.registry import Registry

    registry_path, truth_path = demo_sites.write_files(tmp_path)
    registry = Registry.load(registry_path)
    assert [s.name for s in registry.sources] == list(OUTLETS)
    for source in registry.sources:
        assert source.allows(demo_sites.url_for(source.name, "/x"))
        assert not source.allows(demo_sites.url_for(next(o for o in OUTLETS if o != source.name), "/x"))
    assert len(json.loads(truth_path.read_text())) == len(demo_sites.ground_truth())


def test_fixed_base_port():
    with DemoSites(base_port=0) as a:
        first = a.ports["voltwire"]
    with DemoSites(base_port=first) as b:
        assert b.ports["voltwire"] == first and b.ports["circuitchassis"] == first + 1
