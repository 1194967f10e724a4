"""Feed and sitemap parsing on good, broken and hostile documents."""

import gzip
from datetime import datetime, timezone

import pytest

from crawler.discovery import BadDocument, HostileXml, inflate, parse_feed, parse_sitemap

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>A</title><link>https://ex.com/a</link><pubDate>Thu, 28 Mar 2024 22:40:00 +0800</pubDate></item>
<item><title>no link</title></item>
<item><title>B</title><link> https://ex.com/b </link></item></channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>A</title><link rel="alternate" href="https://ex.com/a"/><id>x</id>
<updated>2024-03-28T10:20:00-07:00</updated></entry></feed>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><item><title>&lol3;</title><link>https://ex.com/a</link></item></channel></rss>"""

XXE = b"""<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&xxe;</loc></url></urlset>"""


def test_rss_entries_with_utc_dates():
    entries = parse_feed(RSS)
    assert [e.url for e in entries] == ["https://ex.com/a", "https://ex.com/b"]
    assert entries[0].published == datetime(2024, 3, 28, 14, 40, tzinfo=timezone.utc)
    assert entries[1].published is None


def test_atom_alternate_links():
    (entry,) = parse_feed(ATOM)
    assert entry.url == "https://ex.com/a"
    assert entry.published == datetime(2024, 3, 28, 17, 20, tzinfo=timezone.utc)


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, XXE])
def test_entity_declarations_are_refused(doc):
    with pytest.raises(HostileXml):
        parse_feed(doc)
    with pytest.raises(HostileXml):
        parse_sitemap(doc)


def test_garbage_is_a_bad_document():
    with pytest.raises(BadDocument):
        parse_feed(b"<html><body>not a feed</body></html>")
    with pytest.raises(BadDocument):
        parse_sitemap(b"<html><body>not a sitemap</body></html>")


def test_sitemap_index_and_urlset():
    index = parse_sitemap(b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                          b"<sitemap><loc>https://ex.com/s1.xml</loc><lastmod>2024-01-02</lastmod></sitemap>"
                          b"</sitemapindex>")
    assert index.is_index and index.entries[0].url == "https://ex.com/s1.xml"
    assert index.entries[0].published == datetime(2024, 1, 2, tzinfo=timezone.utc)
    urlset = parse_sitemap(b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://ex.com/a'
                           b"</loc><lastmod>not a date</lastmod></url></urlset>")
    assert not urlset.is_index and urlset.entries[0].published is None


def test_gzip_bomb_is_refused_and_normal_gzip_inflates():
    small = gzip.compress(b"<urlset/>")
    assert inflate(small, 1000) == b"<urlset/>"
    bomb = gzip.compress(b"\0" * 5_000_000)
    assert len(bomb) < 10_000
    with pytest.raises(BadDocument):
        inflate(bomb, 1_000_000)
