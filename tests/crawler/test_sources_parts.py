"""The pure parts of `sources add/check`: timezone and language hints, JSON Feed reading, registry edits."""

from __future__ import annotations

import json
from datetime import date

import pytest

from crawler.discovery import BadDocument, parse_feed
from crawler.registry import Registry, RegistryError, SourceSpec
from crawler.sources.edit import append_source, update_sources
from crawler.sources.hints import dates_with_offsets, language_tag, timezone_hint


@pytest.mark.parametrize("text, language, host, zone", [
    (b"<pubDate>Wed, 03 Jan 2024 10:00:00 -0500</pubDate> 2024-07-03T10:00:00-04:00", "en", "x.com",
     "America/New_York"),  # winter and summer offsets of one zone
    (b"2024-07-03T10:00:00+08:00 2024-07-04T11:00:00+08:00", "zh-Hans", "x.com", "Asia/Shanghai"),
    (b"2024-07-03T10:00:00+09:00", "en", "x.jp", "Asia/Tokyo"),
    (b"2024-01-03T10:00:00+01:00", "de", "x.de", "Europe/Berlin"),
    (b"2024-07-03T10:00:00Z 2024-07-03T11:00:00Z 2024-07-03T10:00:00+08:00", "en", "x.com", "UTC"),  # majority
    (b"2024-07-03T10:00:00+03:30", "en", "x.com", "UTC"),  # no whole-hour fixed zone: UTC, not a wrong zone
    (b"no dates here", "en", "x.com", "UTC"),
])
def test_timezone_hint(text, language, host, zone):
    assert timezone_hint(dates_with_offsets(text), language, host)[0] == zone


def test_language_tag_takes_the_first_plausible_candidate():
    assert language_tag("", "en_US") == "en-US"
    assert language_tag("<script>", None, "de") == "de"
    assert language_tag(None) is None


def test_json_feed_is_read_like_rss():
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
        {"url": "https://x.com/a", "date_published": "2025-01-02T03:04:05+01:00"}, {"id": "no-url"},
        {"url": "https://x.com/b"}]}).encode()
    entries = parse_feed(body)
    assert [e.url for e in entries] == ["https://x.com/a", "https://x.com/b"]
    assert entries[0].published.isoformat() == "2025-01-02T02:04:05+00:00" and entries[1].published is None
    with pytest.raises(BadDocument):
        parse_feed(b'{"items": "not a list"}')


def test_registry_edits_keep_comments_and_refuse_invalid_results(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text('# header comment\n[[source]]\nname = "a"  # inline comment\ntitle = "A"\n'
                    'homepage = "https://a.example/"\nfeeds = ["https://a.example/feed"]\nverified = false\n')
    append_source(path, SourceSpec(name="b", title="B", homepage="https://b.example/", feeds=["https://b.example/rss"],
                                   verified_on=date(2026, 1, 2)), comment="added by a test")
    assert update_sources(path, {"a": {"verified": True, "verified_on": date(2026, 1, 3)}}) == ["a"]
    text = path.read_text()
    assert text.startswith("# header comment") and "# inline comment" in text and "added by a test" in text
    registry = Registry.load(path)
    assert [s.name for s in registry] == ["a", "b"]
    assert registry.get("a").verified_on == date(2026, 1, 3) and registry.get("b").verified_on == date(2026, 1, 2)
    before = path.read_bytes()
    with pytest.raises(RegistryError):
        update_sources(path, {"a": {"feeds": ["ftp://nope"]}})  # the crawler would refuse it: nothing written
    assert path.read_bytes() == before and not (tmp_path / "sources.toml.tmp").exists()
