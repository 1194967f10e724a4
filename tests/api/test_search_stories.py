"""GET /search (keyword, semantic, hybrid) and GET /stories, /stories/{id}."""

from __future__ import annotations

import pytest

from tests.api.api_helpers import BYD, WAYMO, XIAOMI, assert_problem

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mode, query, event", [
    ("keyword", "megawatt flash charging", BYD),
    ("semantic", "driverless taxi rides in Texas", WAYMO),
    ("hybrid", "Xiaomi electric sedan price", XIAOMI),
])
def test_search_modes_find_the_event(client, articles, mode, query, event):
    r = client.get("/search", params={"q": query, "mode": mode, "limit": 2})
    assert r.status_code == 200
    body = r.json()
    assert body["mode"] == mode and body["query"] == query and len(body["items"]) == 2
    assert {i["article_id"] for i in body["items"]} <= {articles[k] for k in event}
    assert r.headers["x-index-version"] == str(body["index_version"]) == "1" and body["model"] == r.headers["x-model"]


def test_search_shows_one_article_per_near_duplicate_group(client, articles):
    items = client.get("/search", params={"q": "Xiaomi launches SU7 electric sedan", "mode": "keyword"}).json()["items"]
    ids = [i["article_id"] for i in items]
    assert len({articles["su7_voltwire"], articles["su7_copy"]} & set(ids)) == 1


@pytest.mark.parametrize("params, field", [
    ({"q": "ev", "mode": "fuzzy"}, "query.mode"),
    ({}, "query.q"),
    ({"q": ""}, "query.q"),
    ({"q": "x" * 301}, "query.q"),
    ({"q": "ev", "limit": 0}, "query.limit"),
])
def test_search_validation(client, params, field):
    assert_problem(client.get("/search", params=params), 422, field)


def test_stories_group_each_event(client, articles):
    r = client.get("/stories")
    assert r.status_code == 200 and r.headers["x-index-version"] == "1"
    stories = r.json()["items"]
    assert stories and all(s["size"] >= 2 for s in stories)
    byd_story = next(s for s in stories if s["label_article_id"] in {articles[k] for k in BYD})
    detail = client.get(f"/stories/{byd_story['story_id']}").json()
    assert {a["article_id"] for a in detail["articles"]} == {articles[k] for k in BYD}
    assert detail["size"] == 3 and detail["index_version"] == 1
    published = [a["published"] for a in detail["articles"]]
    assert published == sorted(published)
    big = client.get("/stories", params={"min_size": 4}).json()["items"]
    assert [s["size"] >= 4 for s in big] == [True] * len(big) and len(big) < len(stories)


def test_unknown_story_is_404_and_bad_filters_422(client, articles):
    assert_problem(client.get("/stories/424242"), 404)
    assert_problem(client.get("/stories", params={"since": "last week"}), 422, "query.since")
    assert_problem(client.get("/stories", params={"min_size": 0}), 422, "query.min_size")
