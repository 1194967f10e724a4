"""GET /articles (filters, cursor pagination, newest first), GET /articles/{id} (copies) and GET /sources."""

from __future__ import annotations

import pytest

from tests.api.api_helpers import BYD

pytestmark = pytest.mark.slow


def test_articles_come_newest_first_and_the_cursor_walks_all_of_them(client, articles):
    first = client.get("/articles", params={"limit": 4}).json()
    assert len(first["items"]) == 4 and first["next_cursor"] == first["items"][-1]["id"]
    seen, cursor, dates = [], None, []
    while True:
        page = client.get("/articles", params={"limit": 4, **({"cursor": cursor} if cursor else {})}).json()
        seen += [a["id"] for a in page["items"]]
        dates += [a["published_at"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(articles.values()) and len(seen) == len(set(seen))
    assert dates == sorted(dates, reverse=True)


def test_articles_filter_by_source_tag_dates_and_keyword(client, articles):
    by_source = client.get("/articles", params={"source": "autopulse"}).json()["items"]
    assert {a["source"] for a in by_source} == {"autopulse"} and len(by_source) == 3
    by_tag = client.get("/articles", params={"tag": "byd"}).json()["items"]
    assert {a["id"] for a in by_tag} == {articles[k] for k in BYD}
    window = client.get("/articles", params={"since": "2025-03-05T00:00:00Z",
                                             "until": "2025-03-18T08:00:00+08:00"}).json()["items"]
    # the +08:00 bound is 2025-03-18T00:00Z: chargecast's BYD story (08:00Z) is after it, Waymo's (03-04) before
    assert {a["id"] for a in window} == {articles["byd_voltwire"], articles["byd_autopulse"]}
    keyword = client.get("/articles", params={"q": "Megawatt"}).json()["items"]
    assert {a["id"] for a in keyword} == {articles[k] for k in BYD}


def test_article_detail_lists_its_near_duplicate_copies(client, articles):
    original = client.get(f"/articles/{articles['su7_voltwire']}").json()
    assert [c["article_id"] for c in original["copies"]] == [articles["su7_copy"]]
    assert original["source"] == "voltwire" and original["tags"] == ["xiaomi", "ev"]
    assert original["entities"] == ["xiaomi", "tesla"]  # mentions, apart from the tags
    assert "body" not in original  # the body stays with its publisher
    copy = client.get(f"/articles/{articles['su7_copy']}").json()
    assert [c["article_id"] for c in copy["copies"]] == [articles["su7_voltwire"]]


def test_unknown_article_and_unknown_cursor_are_404_problems(client, articles):
    for path in ("/articles/424242", "/articles?cursor=424242"):
        r = client.get(path)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == 404 and r.json()["title"] == "Not Found" and r.json()["detail"]


@pytest.mark.parametrize("params, field", [
    ({"limit": 0}, "query.limit"),
    ({"limit": 101}, "query.limit"),  # api.max_page_size
    ({"since": "yesterday"}, "query.since"),
    ({"since": "1700000000"}, "query.since"),  # unix numbers are not RFC 3339 date-times
    ({"cursor": -1}, "query.cursor"),
    ({"q": "x" * 301}, "query.q"),  # api.max_query_chars
])
def test_invalid_parameters_are_422_problems_naming_the_field(client, params, field):
    r = client.get("/articles", params=params)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == 422 and problem["instance"] == "/articles"
    assert field in [e["field"] for e in problem["errors"]]


def test_sources_list_counts_articles(client, articles):
    sources = {s["name"]: s for s in client.get("/sources").json()["items"]}
    assert {n: s["articles"] for n, s in sources.items()} == {"autopulse": 3, "chargecast": 3, "voltwire": 3,
                                                              "wirecopy": 1}
    assert sources["voltwire"]["homepage"] == "https://voltwire.example/"
