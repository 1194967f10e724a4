"""Source registry: the shipped publisher list, validation errors, URL scoping, OPML and TOML I/O."""

from __future__ import annotations

import re
import textwrap
import tomllib
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.registry import (
    DEFAULT_PATH,
    ExtractOverrides,
    Registry,
    RegistryError,
    SourceSpec,
    export_opml,
    import_opml,
    merge,
    slugify,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "registry"

GOOD_ENTRY = """
[[source]]
name = "{name}"
title = "Example"
homepage = "https://www.example.com/"
feeds = ["https://www.example.com/feed/"]
"""


def spec(**kw) -> SourceSpec:
    base = {"name": "example", "title": "Example", "homepage": "https://example.com/", "feeds": ["https://example.com/feed"]}
    return SourceSpec(**(base | kw))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "publishers.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# ------------------------------------------------------------------ the shipped registry


def test_shipped_registry_is_valid_and_large_enough():
    reg = Registry.load(DEFAULT_PATH)
    names = [s.name for s in reg]
    assert len(names) >= 25
    assert len(set(names)) == len(names)
    for s in reg:
        assert s.feeds or s.sitemaps, s.name
        for url in [s.homepage, *s.feeds, *s.sitemaps]:
            assert urlsplit(url).scheme in ("http", "https"), (s.name, url)
        zoneinfo.ZoneInfo(s.timezone)
        assert s.verified is False, f"{s.name}: nothing was fetched from the dev machine"
        # a typo in allowed_domains would silently drop every article of the source
        assert s.model_copy(update={"url_pattern": None}).allows(s.homepage), s.name


def test_shipped_registry_has_the_required_publishers():
    names = {s.name for s in Registry.load(DEFAULT_PATH)}
    for required in ["electrek", "insideevs", "cnevpost", "carnewschina", "engadget", "autoblog", "motor1",
                     "greencarreports", "teslarati", "gizmochina", "technode"]:
        assert required in names
    for prefix in ["techcrunch", "theverge", "arstechnica"]:
        assert any(n.startswith(prefix) for n in names), prefix


def test_shipped_url_patterns_accept_a_typical_article_url():
    reg = Registry.load(DEFAULT_PATH)
    assert reg.get("electrek").allows("https://electrek.co/2024/07/26/kias-sporty-new-ev3-gt-line-video/")
    assert not reg.get("electrek").allows("https://electrek.co/guides/kia-ev3/")
    assert reg.get("insideevs").allows("https://insideevs.com/news/727980/nissan-leaf-9-dollars-lease-colorado/")
    assert reg.get("arstechnica-cars").allows("https://arstechnica.com/cars/2024/05/some-story/")
    assert not reg.get("reuters-autos").allows("https://www.reuters.com/world/europe/unrelated-2024-05-01/")


# ------------------------------------------------------------------ validation errors


@pytest.mark.parametrize(
    "override, needle",
    [
        ('feeds = ["file:///etc/passwd"]', "not an http(s) URL"),
        ('homepage = "javascript:alert(1)"', "not an http(s) URL"),
        ('sitemaps = ["ftp://example.com/sitemap.xml"]', "not an http(s) URL"),
        ('feeds = ["https://user:pw@example.com/feed"]', "credentials"),
        ('feeds = ["https://exa mple.com/feed"]', "whitespace"),
        ('feeds = ["https://example.com:99999/feed"]', "malformed URL"),
        ('timezone = "Mars/Olympus_Mons"', "unknown IANA timezone"),
        ('timezone = "../../etc/passwd"', "unknown IANA timezone"),
        ("url_pattern = '/(\\d{4}/'", "not a valid regex"),
        ('allowed_domains = ["https://example.com/"]', "bare host"),
        ('language = "english please"', "language"),
        ('feed = ["https://example.com/feed"]', "feed"),  # typo'd key must not be ignored
        ("verified = \"yes\"", "verified"),
        ('feeds = []\nrobots_sitemaps = false', "nothing to crawl"),
        ('title = ""', "title"),
        ('extract = { body_selector = "div[" }', "invalid CSS selector"),
    ],
)
def test_invalid_entry_names_file_entry_and_problem(tmp_path, override, needle):
    good = GOOD_ENTRY.format(name="fine")
    lines = [ln for ln in GOOD_ENTRY.format(name="broken").splitlines()
             if not ln.startswith(override.split(" =")[0] + " =")]
    path = write(tmp_path, good + "\n".join(lines) + "\n" + override + "\n")
    with pytest.raises(RegistryError) as info:
        Registry.load(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "source #2 'broken'" in msg
    assert needle in msg
    assert "'fine'" not in msg


def test_bad_name_is_reported_by_position(tmp_path):
    path = write(tmp_path, GOOD_ENTRY.format(name="Bad Name!"))
    with pytest.raises(RegistryError, match=r"source #1 'Bad Name!'.*name"):
        Registry.load(path)


def test_duplicate_names_are_rejected(tmp_path):
    path = write(tmp_path, GOOD_ENTRY.format(name="dup") + GOOD_ENTRY.format(name="dup"))
    with pytest.raises(RegistryError, match=r"source #2 'dup': duplicate name \(also used by source #1\)"):
        Registry.load(path)
    with pytest.raises(RegistryError, match="duplicate source names: dup"):
        Registry([spec(name="dup"), spec(name="dup")])


def test_all_problems_are_reported_at_once(tmp_path):
    path = write(tmp_path, GOOD_ENTRY.format(name="one") + 'timezone = "Nowhere/X"\n'
                 + GOOD_ENTRY.format(name="two") + 'url_pattern = "("\n')
    with pytest.raises(RegistryError) as info:
        Registry.load(path)
    assert "2 invalid source entries" in str(info.value)
    assert "'one'" in str(info.value) and "'two'" in str(info.value)


@pytest.mark.parametrize(
    "text, needle",
    [
        ("[[source]\nname = 'x'\n", "invalid TOML"),
        ("[[sources]]\nname = 'x'\n", "expected only [[source]] tables"),
        ("source = 'x'\n", "expected only [[source]] tables"),
        ("source = ['x']\n", "source #1"),
    ],
)
def test_malformed_files_raise_registry_error(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(RegistryError, match=re.escape(needle)) as info:
        Registry.load(path)
    assert str(path) in str(info.value)


def test_missing_file_raises_registry_error(tmp_path):
    with pytest.raises(RegistryError, match="cannot read registry"):
        Registry.load(tmp_path / "nope.toml")


# ------------------------------------------------------------------ selection


def test_select_and_get():
    reg = Registry([spec(name="a"), spec(name="b"), spec(name="c")])
    assert [s.name for s in reg.select(None)] == ["a", "b", "c"]
    assert [s.name for s in reg.select(["c", "a", "c"])] == ["c", "a"]
    assert reg.select([]) == []
    assert reg.get("b").name == "b"
    assert "b" in reg and "z" not in reg


def test_select_unknown_lists_known_names():
    reg = Registry([spec(name="a"), spec(name="b")])
    with pytest.raises(RegistryError, match=r"unknown source\(s\): zzz; known: a, b"):
        reg.select(["a", "zzz"])
    with pytest.raises(RegistryError, match="zzz"):
        reg.get("zzz")


# ------------------------------------------------------------------ allows()


@pytest.mark.parametrize(
    "url, ok",
    [
        ("https://example.com/a", True),
        ("https://www.example.com/a", True),
        ("http://EXAMPLE.com./a", True),
        ("https://cdn.news.example.com/a", True),
        ("https://example.com:8443/a", True),  # no port in the allowed domain: any port
        ("https://notexample.com/a", False),
        ("https://example.com.evil.net/a", False),
        ("https://evil.net/?u=https://example.com/", False),
        ("https://example.com\\@evil.net/", False),
        ("https://example.com@evil.net/", False),
        ("ftp://example.com/a", False),
        ("javascript:alert(1)//example.com", False),
        ("http://[::1/a", False),
        ("", False),
    ],
)
def test_allows_host_and_subdomains(url, ok):
    assert spec(allowed_domains=["example.com"]).allows(url) is ok


@pytest.mark.parametrize(
    "url, ok",
    [
        ("http://127.0.0.1:8001/2024/01/01/x", True),
        ("http://127.0.0.1:8002/2024/01/01/x", False),
        ("http://127.0.0.1/2024/01/01/x", False),
        ("http://a.127.0.0.1:8001/2024/01/01/x", False),  # no "subdomains" of an IP address
        ("https://secure.example.com/2024/01/01/x", True),  # example.com:443 vs implicit https port
        ("http://secure.example.com/2024/01/01/x", False),
        ("http://127.0.0.1:8001/about", False),  # url_pattern
    ],
)
def test_allows_ports_and_pattern(url, ok):
    s = spec(homepage="http://127.0.0.1:8001/", allowed_domains=["127.0.0.1:8001", "example.com:443"],
             url_pattern=r"/\d{4}/\d{2}/\d{2}/")
    assert s.allows(url) is ok


def test_allowed_domains_default_to_homepage_host():
    assert spec(homepage="https://www.Example.com/news").allowed_domains == ["example.com"]
    assert spec(homepage="http://127.0.0.1:8001/").allowed_domains == ["127.0.0.1:8001"]
    assert spec(homepage="http://127.0.0.1:8001/").allows("http://127.0.0.1:8001/a")
    assert not spec(homepage="http://127.0.0.1:8001/").allows("http://127.0.0.1:8002/a")


# ------------------------------------------------------------------ OPML


def test_opml_round_trip_keeps_feeds_and_escapes_text():
    sources = Registry.load(DEFAULT_PATH).sources + [
        spec(name="odd", title='R&D <Cars> "quoted" \'single\'', feeds=["https://example.com/feed?a=1&b=2"])
    ]
    text = export_opml(sources)
    assert "R&amp;D &lt;Cars&gt;" in text and "a=1&amp;b=2" in text
    imported = import_opml(text.encode())
    assert sorted(f for s in imported for f in s.feeds) == sorted(f for s in sources for f in s.feeds)
    odd = next(s for s in imported if s.feeds == ["https://example.com/feed?a=1&b=2"])
    assert odd.title == 'R&D <Cars> "quoted" \'single\''
    assert odd.name == "r-d-cars-quoted-single"
    assert all(s.verified is False for s in imported)


def test_opml_nested_outlines():
    imported = {s.feeds[0]: s for s in import_opml(FIXTURES / "nested.opml")}
    assert list(imported) == [
        "https://electrek.co/feed/",
        "https://cnevpost.com/feed/",
        "https://carnewschina.com/feed/",
        "https://electrek.co/category/tesla/feed/",
        "http://example.de/rss.xml",
    ]
    deep = imported["https://carnewschina.com/feed/"]
    assert deep.title == "Car News & Reviews"
    assert deep.topics == ["ev-news", "china", "deeper"]
    assert deep.homepage == "https://carnewschina.com/"  # no htmlUrl: derived from the feed
    assert imported["https://cnevpost.com/feed/"].language == "en-US"
    assert imported["https://electrek.co/feed/"].name == "electrek"
    assert imported["https://electrek.co/category/tesla/feed/"].name == "electrek-2"
    assert imported["http://example.de/rss.xml"].name == "uber-autos"
    assert imported["http://example.de/rss.xml"].topics == []


@pytest.mark.parametrize("fixture", ["billion_laughs.opml", "xxe.opml", "external_dtd.opml"])
def test_hostile_opml_is_rejected(fixture):
    with pytest.raises(RegistryError, match="unsafe OPML") as info:
        import_opml(FIXTURES / fixture)
    assert "root:" not in str(info.value)  # nothing from /etc/passwd leaked into the message


@pytest.mark.parametrize(
    "data, needle",
    [
        (b"<opml><body><outline", "not well-formed"),
        (b"<rss><channel/></rss>", "not an OPML document"),
        (b'<opml><body><outline text="x" xmlUrl="javascript:alert(1)"/></body></opml>', "outline 'x'"),
        (b'<opml><body><outline text="y" xmlUrl="file:///etc/passwd"/></body></opml>', "not an http"),
    ],
)
def test_bad_opml_raises_registry_error(data, needle):
    with pytest.raises(RegistryError, match=needle):
        import_opml(data)


def test_deeply_nested_opml_does_not_recurse():
    depth = 5000
    data = ("<opml><body>" + '<outline text="f">' * depth
            + '<outline text="leaf" xmlUrl="https://example.com/feed"/>'
            + "</outline>" * depth + "</body></opml>").encode()
    [leaf] = import_opml(data)
    assert leaf.topics == ["f"]


def test_slugify():
    assert slugify("Électrek — EVs & More") == "electrek-evs-more"
    assert slugify("***") == ""
    assert len(slugify("x" * 200)) <= 56


# ------------------------------------------------------------------ TOML dump


def test_dump_load_round_trip(tmp_path):
    reg = Registry.load(DEFAULT_PATH)
    reg.sources.append(spec(
        name="tricky", title='Quote " backslash \\ ünïcode 電動車', url_pattern="/it's/\\d+\x7f", topics=["ev"],
        extract=ExtractOverrides(body_selector="div.article-body", drop_selectors=["aside", "div\n\t.ad"]),
    ))
    reg.sources.append(spec(name="regex", url_pattern=r"/\d{4}/(news|reviews)/"))
    path = tmp_path / "out.toml"
    reg.dump(path)
    again = Registry.load(path)
    assert [s.model_dump() for s in again] == [s.model_dump() for s in reg]
    assert "url_pattern = '/\\d{4}/(news|reviews)/'" in path.read_text()  # regexes stay readable
    assert not list(tmp_path.glob("*.tmp"))
    tomllib.loads(path.read_text())


# ------------------------------------------------------------------ merge


def test_merge_skips_known_feeds_and_renames_clashes():
    reg = Registry([spec(name="electrek", feeds=["https://electrek.co/feed/"], homepage="https://electrek.co/")])
    new = import_opml(FIXTURES / "nested.opml")
    added, skipped = merge(reg, new)
    assert [s.feeds[0] for s in skipped] == ["https://electrek.co/feed/"]
    assert [s.name for s in added] == ["cnevpost", "car-news-reviews", "electrek-2", "uber-autos"]
    assert len(reg) == 5
    # running the same import again changes nothing; www./scheme/trailing slash are ignored
    again, skipped_again = merge(reg, new + [spec(name="x", feeds=["http://www.electrek.co/feed"])])
    assert again == [] and len(skipped_again) == len(new) + 1
