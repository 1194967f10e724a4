"""GET /feed.json: JSON Feed 1.1 beside Atom, with the same entries and filters; scraped text stays text.
The renderer is also tested on its own (no model needed)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from types import SimpleNamespace

import defusedxml.ElementTree as SafeET
import pytest

from tests.api.api_helpers import XIAOMI
from recommender.api.jsonfeed import JSON_FEED_VERSION, json_feed

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE = "Xiaomi SU7 <script>alert('x')</script> & <img src=x onerror=alert(1)> \"88,898\"\x01 \ud800 done"


def assert_valid_json_feed(doc: dict) -> None:
    """The parts of JSON Feed 1.1 a reader relies on: version, title, items with an id and content."""
    assert doc["version"] == JSON_FEED_VERSION and isinstance(doc["title"], str) and doc["title"]
    assert isinstance(doc["items"], list)
    for item in doc["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert isinstance(item.get("content_text"), str) and "content_html" not in item
        for key in ("url", "image"):
            assert key not in item or item[key].startswith(("https://", "http://"))
        for key in ("date_published", "date_modified"):
            if key in item:
                assert item[key].endswith("Z") and datetime.fromisoformat(item[key].replace("Z", "+00:00"))
        assert all(isinstance(a["name"], str) for a in item.get("authors", []))
        assert None not in item.values()
        assert all(not k.startswith("_") or isinstance(item[k], dict) for k in item)  # extensions are objects


def _article(**kw):
    base = dict(id=7, url="https://a.example/su7", title="t", summary="", body="", authors=[], tags=[],
                entities=[], language="en", lead_image=None, source_name="src", updated_at=None,
                published_at=datetime(2024, 3, 28, 14, 40, tzinfo=timezone.utc))
    return SimpleNamespace(**{**base, **kw})


def test_renderer_keeps_hostile_text_as_text():
    body = json_feed([_article(title=HOSTILE, summary="<b>boom</b>", body="One <i>two</i> three.\x00",
                               authors=['<b>Eve</b> "Mallory"'], tags=['t"1', "</script>"],
                               lead_image="javascript:alert(1)", url="javascript:alert(2)")],
                     title="newsagg", feed_url="http://api.example/feed.json", home_page_url=None,
                     item_id_prefix="http://api.example/articles/")
    assert b"<" not in body and b">" not in body and b"&" not in body  # safe even inside a <script> element
    doc = json.loads(body)
    assert_valid_json_feed(doc)
    item = doc["items"][0]
    assert item["id"] == "http://api.example/articles/7"
    assert item["title"] == "Xiaomi SU7 <script>alert('x')</script> & <img src=x onerror=alert(1)> \"88,898\"  done"
    assert item["summary"] == "<b>boom</b>" and item["content_text"] == "<b>boom</b>"
    assert b"three" not in body  # the body stays with its publisher, as in the Atom feed
    assert "url" not in item and "image" not in item  # never a javascript: link
    assert item["authors"] == [{"name": '<b>Eve</b> "Mallory"'}] and item["tags"] == ['t"1', "</script>"]
    assert item["date_published"] == "2024-03-28T14:40:00Z" and "date_modified" not in item


def test_renderer_content_falls_back_and_empty_feed_is_valid():
    doc = json.loads(json_feed([_article(body="", summary="", title="Only a title")], title="x",
                               feed_url="https://f.example/feed.json", home_page_url=None, item_id_prefix="p"))
    assert doc["items"][0]["content_text"] == "Only a title"
    empty = json.loads(json_feed([], title="x", feed_url="https://f.example/", home_page_url=None,
                                 item_id_prefix="p"))
    assert_valid_json_feed(empty)
    assert empty["items"] == []


# ---- through the API (real store, model and index) -------------------------------------------------------
@pytest.mark.slow
def test_json_feed_has_the_atom_feeds_entries(client, articles):
    r = client.get("/feed.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/feed+json; charset=utf-8"
    assert b"<script" not in r.content
    doc = r.json()
    assert_valid_json_feed(doc)
    atom = SafeET.fromstring(client.get("/feed.atom").content)
    assert [i["id"] for i in doc["items"]] == [e.findtext(f"{ATOM}id") for e in atom.findall(f"{ATOM}entry")]
    assert len(doc["items"]) == len(articles)
    assert "feed_url" not in doc  # no public_base_url configured: never a link built from the Host header


@pytest.mark.slow
def test_json_feed_per_tag_per_source_and_bad_input(client, articles):
    doc = client.get("/feed.json", params={"tag": "xiaomi"}).json()
    assert len(doc["items"]) == len(XIAOMI) and "xiaomi" in doc["title"]
    doc = client.get("/feed.json", params={"source": "autopulse", "limit": 2}).json()
    assert [i["_newsagg"]["source"] for i in doc["items"]] == ["autopulse"] * 2
    r = client.get("/feed.json", params={"limit": 0})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
