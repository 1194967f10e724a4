"""GET /feed.atom and GET /widget/related: hostile scraped text is escaped, links are only http(s), framing and
CORS follow the settings. The renderers are also tested on their own (those tests need no model)."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone
from html.parser import HTMLParser
from types import SimpleNamespace

import defusedxml.ElementTree as SafeET
import pytest

from tests.api.api_helpers import READER, XIAOMI, assert_problem
from recommender.api.atom import atom_feed
from recommender.api.widget import STYLE, content_security_policy, legacy_frame_options, related_fragment
from recommender.related import RelatedItem

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE_TITLE = "Xiaomi SU7 <script>alert('x')</script> orders & <img src=x onerror=alert(1)> \"88,898\" in 24 hours"


class Markup(HTMLParser):
    """Collects the elements and attributes a browser would build from the fragment."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def assert_inert(html: str) -> Markup:
    """Only the fragment's own elements, links only to http(s), no event handlers."""
    markup = Markup(html)
    assert {t for t, _ in markup.tags} <= {"section", "style", "h2", "ol", "li", "a", "span", "p"}
    for tag, attrs in markup.tags:
        assert not any(name.startswith("on") for name in attrs)
        if tag == "a":
            assert set(attrs) == {"href", "target", "rel"} and attrs["href"].startswith(("https://", "http://"))
    return markup


# ---- through the API (real store, model and index) -------------------------------------------------------
@pytest.mark.slow
def test_widget_escapes_hostile_titles_and_never_links_javascript(client, articles, fixture_rows):
    url = next(r["url"] for r in fixture_rows if r["key"] == "su7_autopulse")
    r = client.get("/widget/related", params={"url": url})
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    html = r.text
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html and "&quot;88,898&quot;" in html
    markup = assert_inert(html)
    text = "".join(markup.text)
    assert HOSTILE_TITLE in text  # shown as the text it is
    js_title = next(r["title"] for r in fixture_rows if r["key"] == "su7_jsurl")
    assert js_title in text and "javascript:" not in html  # listed, but not as a link
    assert r.headers["x-index-version"] == "1" and r.headers["x-model"] == "all-MiniLM-L6-v2@onnx-int8"


@pytest.mark.slow
def test_widget_framing_and_cors_follow_the_settings(client, articles, fixture_rows):
    url = next(r["url"] for r in fixture_rows if r["key"] == "su7_voltwire")
    r = client.get("/widget/related", params={"url": url}, headers={"Origin": READER})
    csp = r.headers["content-security-policy"]
    assert f"frame-ancestors {READER} 'self'" in csp and "default-src 'none'" in csp
    style_hash = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    assert f"style-src 'sha256-{style_hash}'" in csp and "script-src" not in csp
    assert r.headers["x-content-type-options"] == "nosniff" and "x-frame-options" not in r.headers
    assert r.headers["access-control-allow-origin"] == READER
    assert "X-Index-Version" in r.headers["access-control-expose-headers"]
    other = client.get("/widget/related", params={"url": url}, headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = client.options("/related", headers={"Origin": READER, "Access-Control-Request-Method": "POST",
                                                    "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == READER


@pytest.mark.slow
def test_widget_for_an_unknown_url_is_404(client, articles):
    assert_problem(client.get("/widget/related", params={"url": "https://voltwire.example/unknown"}), 404)
    assert_problem(client.get("/widget/related", params={"url": "https://a.example/", "limit": 99}), 422,
                   "query.limit")


@pytest.mark.slow
def test_feed_is_well_formed_atom_with_everything_escaped(client, articles, fixture_rows):
    r = client.get("/feed.atom")
    assert r.status_code == 200 and r.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert b"<script" not in r.content and b"\x01" not in r.content
    root = SafeET.fromstring(r.content)  # parses: well-formed despite markup and control characters in the data
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == len(articles)
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert HOSTILE_TITLE in titles
    updated = [e.findtext(f"{ATOM}published") for e in entries]
    assert updated == sorted(updated, reverse=True)
    by_title = {e.findtext(f"{ATOM}title"): e for e in entries}
    hostile = by_title[HOSTILE_TITLE]
    assert hostile.find(f"{ATOM}author/{ATOM}name").text == '<b>Eve</b> "Mallory"'
    assert hostile.findtext(f"{ATOM}summary") == "Orders <b>boom</b> & the  control character"
    js_title = next(r["title"] for r in fixture_rows if r["key"] == "su7_jsurl")
    assert by_title[js_title].find(f"{ATOM}link") is None
    links = [e.find(f"{ATOM}link").get("href") for e in entries if e.find(f"{ATOM}link") is not None]
    assert all(h.startswith("https://") for h in links)


@pytest.mark.slow
def test_feed_per_tag_and_per_source(client, articles):
    root = SafeET.fromstring(client.get("/feed.atom", params={"tag": "xiaomi"}).content)
    assert len(root.findall(f"{ATOM}entry")) == len(XIAOMI) and "xiaomi" in root.findtext(f"{ATOM}title")
    root = SafeET.fromstring(client.get("/feed.atom", params={"source": "autopulse", "limit": 2}).content)
    assert [e.findtext(f"{ATOM}source/{ATOM}title") for e in root.findall(f"{ATOM}entry")] == ["autopulse"] * 2


# ---- the renderers on their own ------------------------------------------------------------------------
def _item(title: str, url: str, source: str = "src") -> RelatedItem:
    """What the widget route hands over: a cached list's item."""
    return RelatedItem(article_id=1, url=url, title=title, source=source,
                       published=datetime(2025, 1, 2, tzinfo=timezone.utc), score=0.5, reason="r")


@pytest.mark.parametrize("title, url", [
    ('"><script>alert(1)</script>', "https://a.example/x"),
    ("<img src=x onerror=alert(1)>", "https://a.example/?q=\"><img src=x onerror=alert(1)>"),
    ("it's \"quoted\" & <b>bold</b>", "javascript:alert(1)"),
    ("data", "data:text/html,<script>alert(1)</script>"),
    ("spaces", " https://a.example/ "),
])
def test_fragment_is_inert_whatever_the_scraped_text(title, url):
    html = related_fragment([_item(title, url, source="<i onmouseover=x>s</i>")])
    markup = assert_inert(html)
    assert title in "".join(markup.text)


def test_empty_fragment_says_so():
    assert "No related articles" in related_fragment([])


def test_csp_keeps_valid_frame_ancestors_and_drops_injections():
    csp = content_security_policy(["https://ok.example", "'self'", "evil; script-src *", "a.example\r\nX-Evil: 1",
                                   "https://ünicode.example"])
    assert csp.endswith("frame-ancestors https://ok.example 'self'") and "script-src" not in csp
    assert content_security_policy([]).endswith("frame-ancestors 'none'")
    assert legacy_frame_options(["'none'"]) == "DENY" and legacy_frame_options(["'self'"]) == "SAMEORIGIN"
    assert legacy_frame_options(["*"]) is None


def test_atom_writer_escapes_and_drops_what_xml_cannot_carry():
    article = SimpleNamespace(
        id=7, url="https://a.example/<x>&y", title="A <b>bold</b> & \x00\x08 \ud800 title", authors=["A & B"],
        summary="]]> <!-- -->", tags=['t"1'], source_name="src", source=SimpleNamespace(homepage="javascript:x"),
        published_at=datetime(2025, 1, 2, tzinfo=timezone.utc), updated_at=None,
        fetched_at=datetime(2025, 1, 3, tzinfo=timezone.utc))
    root = SafeET.fromstring(atom_feed([article], title="T & <t>", self_url="http://h/feed.atom?a=1&b=<2>",
                                       entry_id_prefix="http://h/{x}/"))
    entry = root.find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "A <b>bold</b> &   title"
    assert entry.findtext(f"{ATOM}id") == "http://h/{x}/7"
    assert entry.find(f"{ATOM}link").get("href") == "https://a.example/<x>&y"
    assert entry.findtext(f"{ATOM}summary") == "]]> <!-- -->"
    assert entry.find(f"{ATOM}source/{ATOM}link") is None  # not an http(s) homepage


@pytest.mark.slow
def test_feed_ids_and_self_link_never_come_from_the_host_header(client, articles, service, api_settings):
    spoofed = {"Host": "evil.example"}
    r = client.get("/feed.atom", params={"tag": "xiaomi"}, headers=spoofed)
    assert r.status_code == 200 and b"evil.example" not in r.content
    jr = client.get("/feed.json", params={"tag": "xiaomi"}, headers=spoofed)
    assert jr.status_code == 200 and b"evil.example" not in jr.content
    assert jr.json()["items"][0]["id"].startswith("tag:newsagg,2026:article:")
    root = SafeET.fromstring(r.content)
    assert root.findtext(f"{ATOM}id") == "tag:newsagg,2026:/feed.atom?tag=xiaomi"
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "/feed.atom?tag=xiaomi"
    assert root.find(f"{ATOM}entry").findtext(f"{ATOM}id").startswith("tag:newsagg,2026:article:")

    from fastapi.testclient import TestClient

    from recommender.api import create_app

    settings = api_settings.model_copy(update={"api": api_settings.api.model_copy(
        update={"public_base_url": "https://news.example/api/"})})
    with TestClient(create_app(settings, service, wait_ready=True)) as configured:
        root = SafeET.fromstring(configured.get("/feed.atom", params={"limit": 3}, headers=spoofed).content)
        doc = configured.get("/feed.json", params={"limit": 3}, headers=spoofed).json()
    assert doc["feed_url"] == "https://news.example/api/feed.json?limit=3"
    assert all(i["id"].startswith("https://news.example/api/articles/") for i in doc["items"])
    assert root.findtext(f"{ATOM}id") == "https://news.example/api/feed.atom?limit=3"
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "https://news.example/api/feed.atom?limit=3"
    assert all(e.findtext(f"{ATOM}id").startswith("https://news.example/api/articles/")
               for e in root.findall(f"{ATOM}entry"))
