"""Related articles by id, by URL and for a draft: results, copies, limits, the index stamp, and errors."""

from __future__ import annotations

import pytest

from tests.api.api_helpers import XIAOMI, assert_problem, seed

pytestmark = pytest.mark.slow


def test_related_by_id_excludes_the_article_and_its_copies_and_lists_the_copies(client, articles):
    r = client.get(f"/articles/{articles['su7_voltwire']}/related")
    assert r.status_code == 200
    body = r.json()
    ids = [i["article_id"] for i in body["items"]]
    assert articles["su7_voltwire"] not in ids and articles["su7_copy"] not in ids
    assert {articles[k] for k in ("su7_autopulse", "su7_hostile")} <= set(ids)
    assert set(ids[:2]) <= {articles[k] for k in XIAOMI}  # the same event first
    assert [c["article_id"] for c in body["copies"]] == [articles["su7_copy"]]
    scores = [i["score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True) and all(i["reason"] for i in body["items"])
    # the index stamp, in the body and in the headers
    assert body["model"] == r.headers["x-model"] == "all-MiniLM-L6-v2@onnx-int8"
    assert str(body["index_version"]) == r.headers["x-index-version"] == "1"


def test_a_result_with_copies_is_shown_once_with_the_others_under_also_in(client, articles):
    items = client.get(f"/articles/{articles['su7_autopulse']}/related").json()["items"]
    pair = {articles["su7_voltwire"], articles["su7_copy"]}
    shown = [i for i in items if i["article_id"] in pair]
    assert len(shown) == 1
    assert [c["article_id"] for c in shown[0]["also_in"]] == list(pair - {shown[0]["article_id"]})


def test_limit_and_min_score(client, articles):
    path = f"/articles/{articles['su7_voltwire']}/related"
    full = client.get(path).json()["items"]
    assert client.get(path, params={"limit": 1}).json()["items"] == full[:1]
    assert client.get(path, params={"min_score": 1.0}).json()["items"] == []
    threshold = full[1]["score"]
    above = [i for i in full if i["score"] >= threshold]  # (scores can tie)
    assert len(above) >= 2 and above == full[:len(above)]
    assert client.get(path, params={"min_score": threshold}).json()["items"] == above
    for params, field in (({"limit": 21}, "query.limit"), ({"min_score": 1.5}, "query.min_score"),
                          ({"limit": "many"}, "query.limit")):
        assert_problem(client.get(path, params=params), 422, field)


def test_related_by_url_canonicalises_the_url_first(client, articles, fixture_rows):
    by_id = client.get(f"/articles/{articles['su7_voltwire']}/related").json()
    noisy = "HTTPS://VoltWire.example:443/2024/03/28/xiaomi-su7-launch?utm_source=feed&fbclid=abc#comments"
    by_url = client.get("/related", params={"url": noisy})
    assert by_url.status_code == 200 and by_url.json() == by_id
    assert by_url.headers["x-index-version"] == "1"


@pytest.mark.parametrize("url", ["https://voltwire.example/never-crawled", "ftp://voltwire.example/x",
                                 "not a url", "http://voltwire.example:99999/"])
def test_related_for_an_unknown_url_is_404(client, articles, url):
    assert_problem(client.get("/related", params={"url": url}), 404)


def test_unknown_article_is_404(client, articles):
    assert_problem(client.get("/articles/424242/related"), 404)
    assert_problem(client.get("/articles/0/related"), 422, "path.article_id")


def test_related_to_a_draft_ranks_stored_articles_by_its_text(client, articles):
    r = client.post("/related", json={
        "title": "BYD's megawatt flash charging",
        "text": "BYD says its 1,000 kW flash charging adds 400 km of range in five minutes on the Han L.",
        "limit": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["article_id"] is None and body["copies"] == [] and body["limit"] == 3
    byd = {articles[k] for k in ("byd_voltwire", "byd_autopulse", "byd_chargecast")}
    assert [i["article_id"] for i in body["items"]] and set(i["article_id"] for i in body["items"]) <= byd
    assert r.headers["x-index-version"] == str(body["index_version"]) == "1"


@pytest.mark.parametrize("payload, status, field", [
    ({}, 422, "body"),
    ({"title": "", "text": ""}, 422, "body"),
    ({"title": "Xiaomi", "url": "https://voltwire.example/x"}, 422, "body.url"),  # nothing is fetched: no url field
    ({"title": "x" * 1001}, 422, "body.title"),  # api.max_title_chars
    ({"text": "x" * 20_001}, 422, "body.text"),  # api.max_text_chars
    ({"title": "Xiaomi", "limit": 21}, 422, "body.limit"),
])
def test_draft_validation(client, articles, payload, status, field):
    assert_problem(client.post("/related", json=payload), status, field)


def test_oversized_and_malformed_bodies_are_refused(client, articles):
    huge = b'{"text": "' + b"x" * 300_000 + b'"}'
    assert_problem(client.post("/related", content=huge, headers={"content-type": "application/json"}), 413)
    malformed = client.post("/related", content=b'{"title": ', headers={"content-type": "application/json"})
    assert malformed.status_code in (400, 422) and malformed.headers["content-type"] == "application/problem+json"


def test_an_article_stored_after_indexing_is_ranked_from_its_text(client, sqlite_store, articles):
    [new_id] = seed(sqlite_store, [{
        "key": "su7_ultra", "source": "voltwire", "url": "https://voltwire.example/xiaomi-su7-ultra",
        "published": "2024-10-29T12:00:00+00:00", "tags": ["xiaomi", "ev"],
        "title": "Xiaomi SU7 Ultra priced at 814,900 yuan as Lei Jun targets the Nurburgring",
        "body": "Xiaomi priced the SU7 Ultra at 814,900 yuan. Lei Jun said the Xiaomi SU7 Ultra follows the SU7 "
                "sedan launched at 215,900 yuan, built in Beijing with BAIC."}]).values()
    r = client.get(f"/articles/{new_id}/related")
    assert r.status_code == 200 and r.headers["x-index-version"] == "1"
    assert {i["article_id"] for i in r.json()["items"][:2]} <= {articles[k] for k in XIAOMI}


def test_the_by_id_body_is_the_documented_response_model(client, service, sqlite_store, articles):
    """Lists are encoded from the service's dataclasses, not through the response model (a cache miss is cheaper
    that way): the bytes must be the ones the model gives, built the way the API used to build them (the full row,
    its group's members, RelatedArticle per item), for every article and every variant."""
    from recommender.api.convert import copy_of, related_article
    from recommender.api.schemas import RelatedResponse

    settings = service.settings
    default = min(settings.related.limit, settings.api.max_limit)
    for aid in articles.values():
        article = sqlite_store.get_article(aid)
        copies = [copy_of(a) for a in sqlite_store.group_members(article.near_dup_group) if a.id != aid]
        ranked = [related_article(i) for i in service.related(aid, limit=settings.api.max_limit)]
        for limit, min_score in ((None, None), (2, None), (None, 0.5), (20, 0.3)):
            params = {k: v for k, v in (("limit", limit), ("min_score", min_score)) if v is not None}
            shown = [i for i in ranked if min_score is None or i.score >= min_score][:limit or default]
            expected = RelatedResponse(article_id=aid, items=shown, copies=copies, model=service.model_key,
                                       index_version=service.version, limit=limit or default, min_score=min_score)
            r = client.get(f"/articles/{aid}/related", params=params)
            assert r.status_code == 200 and r.content == expected.model_dump_json().encode(), (aid, params)
    assert any(client.get(f"/articles/{aid}/related").json()["copies"] for aid in articles.values())
