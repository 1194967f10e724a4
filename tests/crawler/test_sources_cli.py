"""`newsagg sources add` and `newsagg sources check` against local publishers, run as a user runs them.

Layouts: a feed linked in the head (RSS + JSON Feed), only robots.txt sitemaps (index -> news sitemap), a moved
feed, a broken one; bad input: no feed, a dead feed link, a feed of non-article pages, a private address, a
redirect loop, an entity sitemap and a gzip bomb. Nothing unverified may reach the registry.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from crawler.registry import Registry
from newsagg.demo import local_crawl_env
from tests.crawler.local_publishers import (BILLION_LAUGHS, Site, gzip_bomb, homepage, json_feed, rss, sitemap,
                             sitemap_index)

REGISTRY_HEAD = "# my publishers — hand-written comment that must survive\n\n"


def newsagg(*args: str, private: bool = True, timeout: float = 240) -> subprocess.CompletedProcess:
    env = local_crawl_env(NEWSAGG_CRAWL__RETRY_TIMES="0", COLUMNS="200",
                          **({} if private else {"NEWSAGG_CRAWL__ALLOW_PRIVATE_HOSTS": "false"}))
    return subprocess.run([sys.executable, "-m", "newsagg.app.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def sites():
    started: list[Site] = []

    def make() -> Site:
        started.append(Site())
        return started[-1]

    yield make
    for site in started:
        site.stop()


def head_link_site(site: Site) -> Site:
    paths = site.articles(["solid-state-cells", "sodium-ion-plant", "megawatt-chargers"], "+01:00", lang="de")
    site.html("/", homepage('<link rel="alternate" type="application/rss+xml" href="/news/rss.xml">'
                            '<link rel="alternate" type="application/feed+json" href="/news/feed.json">',
                            lang="de", title="Elektro Blatt"))
    site.xml("/news/rss.xml", rss(site.base, paths, "+0100"), "application/rss+xml")
    site.xml("/news/feed.json", json_feed(site.base, paths), "application/feed+json")
    site.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n")
    return site


def robots_only_site(site: Site) -> Site:
    paths = site.articles(["detroit-battery-plant", "charging-corridor"], "-05:00")
    site.html("/", homepage(title="Motor City Wire"))
    site.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"},
                                  f"User-agent: *\nSitemap: {site.base}/sitemaps/index.xml\n".encode())
    site.xml("/sitemaps/index.xml", sitemap_index(site.base, ["/sitemaps/news.xml"]))
    site.xml("/sitemaps/news.xml", sitemap(site.base, paths, "-05:00", news=True))
    return site


def write_registry(path: Path, body: str = "") -> Path:
    path.write_text(REGISTRY_HEAD + body, encoding="utf-8")
    return path


@pytest.mark.slow
def test_add_finds_head_feeds_language_timezone_and_keeps_comments(sites, tmp_path):
    site = head_link_site(sites())
    registry = write_registry(tmp_path / "sources.toml")
    proc = newsagg("sources", "add", site.base + "/", "--registry", str(registry))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [spec] = Registry.load(registry).sources
    assert spec.feeds == [site.base + "/news/rss.xml", site.base + "/news/feed.json"]
    assert (spec.name, spec.language, spec.timezone) == ("elektro-blatt", "de", "Europe/Berlin")
    assert spec.verified and spec.verified_on == date.today()
    assert registry.read_text().startswith(REGISTRY_HEAD)
    assert "Battery prices fall again" in proc.stdout and "Ada Park" in proc.stdout  # the sample extraction


@pytest.mark.slow
def test_add_with_only_robots_sitemaps(sites, tmp_path):
    site = robots_only_site(sites())
    registry = tmp_path / "new.toml"  # a registry that does not exist yet is created
    proc = newsagg("sources", "add", site.base + "/", "--registry", str(registry))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [spec] = Registry.load(registry).sources
    assert spec.feeds == [] and spec.sitemaps == [] and spec.robots_sitemaps
    assert spec.timezone == "America/New_York"
    assert "news" in proc.stdout  # the index's child was recognised as a news sitemap
    assert "/sitemaps/news.xml" in site.hits


def _no_feed(site: Site) -> str:
    site.html("/", homepage())
    return "no working feed or sitemap"


def _dead_feed_link(site: Site) -> str:
    site.html("/", homepage('<link rel="alternate" type="application/rss+xml" href="/feed.xml">'))
    return "no working feed or sitemap"


def _not_articles(site: Site) -> str:
    listing = homepage(title="Tag: EV").replace(b"<h1>", b"<ul>" + b"".join(
        f"<li><a href='/tag/ev/{i}'>Story {i}</a></li>".encode() for i in range(30)) + b"</ul><h1>")
    for i in range(3):
        site.html(f"/tag/ev/p{i}/", listing)
    site.html("/", homepage('<link rel="alternate" type="application/rss+xml" href="/rss">'))
    site.xml("/rss", rss(site.base, [f"/tag/ev/p{i}/" for i in range(3)]))
    return "no sample article extracted"


@pytest.mark.slow
@pytest.mark.parametrize("layout", [_no_feed, _dead_feed_link, _not_articles], ids=lambda f: f.__name__[1:])
def test_add_refuses_what_it_cannot_verify(sites, tmp_path, layout):
    site = sites()
    expected = layout(site)
    registry = write_registry(tmp_path / "sources.toml")
    before = registry.read_bytes()
    proc = newsagg("sources", "add", site.base + "/", "--registry", str(registry))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert expected in proc.stdout and "nothing written" in proc.stdout
    assert registry.read_bytes() == before


@pytest.mark.slow
def test_add_refuses_a_private_address_unless_allowed(sites, tmp_path):
    site = head_link_site(sites())
    registry = write_registry(tmp_path / "sources.toml")
    proc = newsagg("sources", "add", site.base + "/", "--registry", str(registry), private=False)
    assert proc.returncode == 1
    assert "blocked_address" in proc.stdout
    assert site.hits == [] and Registry.load(registry).sources == []


def _entry(name: str, home: str, feeds: list[str], sitemaps: list[str] = (), robots: bool = False) -> str:
    return (f'# {name}: a comment kept by --fix\n[[source]]\nname = "{name}"\ntitle = "{name}"\nhomepage = "{home}/"\n'
            f"feeds = {json.dumps(feeds)}\nsitemaps = {json.dumps(list(sitemaps))}\n"
            f"robots_sitemaps = {str(robots).lower()}\nverified = false\n\n")


@pytest.mark.slow
def test_check_verdicts_json_and_fix(sites, tmp_path):
    good = head_link_site(sites())
    moved = sites()
    paths = moved.articles(["gigafactory-output", "robotaxi-permit"], "+08:00")
    moved.redirect("/old/rss", "/rss/v2.xml")  # permanent redirect: the feed moved
    moved.xml("/rss/v2.xml", rss(moved.base, paths, "+0800"))
    moved.html("/", homepage('<link rel="alternate" type="application/atom+xml" href="/feeds/new.rss">'))
    moved.xml("/feeds/new.rss", rss(moved.base, paths[::-1], "+0800"))  # replaces the 404 feed below
    broken = sites()
    broken.html("/", homepage())
    hostile = sites()
    hostile.html("/", homepage())
    hostile.redirect("/loop", "/loop", status=302)
    hostile.xml("/hostile.xml", BILLION_LAUGHS)
    hostile.routes["/bomb.xml.gz"] = (200, {"Content-Type": "application/x-gzip"}, gzip_bomb())
    registry = write_registry(tmp_path / "sources.toml", "".join([
        _entry("good", good.base, [good.base + "/news/rss.xml"]),
        _entry("moved", moved.base, [moved.base + "/old/rss", moved.base + "/gone.atom"]),
        _entry("broken", broken.base, [broken.base + "/feed/"], robots=True),
        _entry("hostile", hostile.base, [hostile.base + "/loop"], [hostile.base + "/hostile.xml",
                                                                   hostile.base + "/bomb.xml.gz"]),
    ]))
    proc = newsagg("sources", "check", "--registry", str(registry), "--json")
    assert proc.returncode == 1, proc.stderr  # a broken source makes the exit non-zero
    results = {r["source"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert {name: r["verdict"] for name, r in results.items()} == {
        "good": "ok", "moved": "degraded", "broken": "broken", "hostile": "broken"}
    assert results["good"]["sample"]["authors"] == ["Ada Park"] and results["good"]["sample"]["body_words"] > 60
    assert results["moved"]["replacements"] == {moved.base + "/old/rss": moved.base + "/rss/v2.xml",
                                                moved.base + "/gone.atom": moved.base + "/feeds/new.rss"}
    old = next(d for d in results["moved"]["documents"] if d["url"].endswith("/old/rss"))
    assert old["redirects"] == [[301, moved.base + "/rss/v2.xml"]] and old["entries"] == 2 and old["newest"]
    problems = {d["url"].rsplit("/", 1)[-1]: d["problem"] for d in results["hostile"]["documents"]}
    assert problems == {"loop": "redirect_loop", "hostile.xml": "hostile_xml", "bomb.xml.gz": "bad_sitemap"}
    assert results["broken"]["documents"][0]["problem"] == "http_404"

    before = Registry.load(registry)
    proc = newsagg("sources", "check", "moved", "broken", "--registry", str(registry), "--fix")
    assert proc.returncode == 1  # broken is still broken, and is left as it was
    after = Registry.load(registry)
    assert after.get("moved").feeds == [moved.base + "/rss/v2.xml", moved.base + "/feeds/new.rss"]
    assert after.get("moved").verified and after.get("moved").verified_on == date.today()
    assert after.get("broken") == before.get("broken") and after.get("good") == before.get("good")
    text = registry.read_text()
    assert text.startswith(REGISTRY_HEAD) and "# broken: a comment kept by --fix" in text
    proc = newsagg("sources", "check", "moved", "--registry", str(registry))
    assert proc.returncode == 0 and "moved ok" in proc.stdout.replace("  ", " "), proc.stdout


@pytest.mark.slow
def test_two_commands_add_demo_outlets_and_crawl_them(tmp_path):
    """The README's two commands on the demo outlets: `sources add` their homepages, then `crawl` the result."""
    from newsagg.demo.server import TIMEZONES, DemoSites
    from newsagg.store import Store

    registry, database = tmp_path / "mine.toml", f"sqlite:///{tmp_path / 'store.db'}"
    with DemoSites() as demo:
        for outlet in ("voltwire", "gigadrive"):  # a feed at a common path; only a robots.txt news sitemap
            proc = newsagg("sources", "add", demo.base_url(outlet) + "/", "--registry", str(registry))
            assert proc.returncode == 0, proc.stdout + proc.stderr
        added = Registry.load(registry)
        assert [s.name for s in added] == ["voltwire", "gigadrive-daily"]
        assert added.get("voltwire").feeds == [demo.url_for("voltwire", "/feed.xml")]
        assert added.get("gigadrive-daily").timezone == TIMEZONES["gigadrive"]
        crawl = subprocess.run([sys.executable, "-m", "newsagg.app.cli", "crawl", "--registry", str(registry), "--quiet"],
                               env=local_crawl_env(NEWSAGG_DATABASE_URL=database), capture_output=True, text=True,
                               timeout=300)
        assert crawl.returncode == 0, crawl.stdout[-2000:] + crawl.stderr[-2000:]
    store = Store(database)
    try:
        counts = {source.name: n for source, n, _ in store.sources()}
    finally:
        store.close()
    assert counts["voltwire"] > 10 and counts["gigadrive-daily"] > 10
