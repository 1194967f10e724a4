"""/livez, /readyz, /metrics; 503 until an index is loaded; unknown routes and methods; no traces on a 500."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from tests.api.api_helpers import assert_problem
from recommender.api import create_app
from recommender.service import RelatedService

pytestmark = pytest.mark.slow


def test_livez_and_readyz(client, articles):
    assert client.get("/livez").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "model": "all-MiniLM-L6-v2@onnx-int8", "index_version": 1, "index_kind": "flat",
                        "articles": len(articles)}
    assert r.headers["x-index-version"] == "1"


def test_metrics_count_requests_by_route_and_describe_the_index(client, articles):
    client.get(f"/articles/{articles['su7_voltwire']}/related")
    client.get(f"/articles/{articles['su7_voltwire']}/related")
    client.get("/articles/424242")
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'newsagg_api_requests_total{method="GET",route="/articles/{article_id}/related",status="200"} 2.0' in text
    assert 'newsagg_api_requests_total{method="GET",route="/articles/{article_id}",status="404"} 1.0' in text
    bucket = r'newsagg_api_request_duration_seconds_bucket\{le="0.01",route="/articles/\{article_id\}/related"\}'
    assert re.search(bucket, text)
    assert f"newsagg_index_articles {float(len(articles))}" in text
    assert "newsagg_index_version 1.0" in text
    assert 'newsagg_index_info{kind="flat",model="all-MiniLM-L6-v2@onnx-int8"} 1.0' in text
    assert 'newsagg_related_cache_lookups_total{result="hit"} 1.0' in text
    assert str(articles["su7_voltwire"]) + "/related" not in text  # route templates, never raw paths


def test_not_ready_until_the_first_snapshot_is_published(sqlite_store, api_settings, embedder, articles):
    service = RelatedService(sqlite_store, api_settings, embedder=embedder)  # nothing indexed yet
    with TestClient(create_app(api_settings, service)) as client:
        problem = assert_problem(client.get("/readyz"), 503)
        assert "not ready" in problem["detail"]
        assert client.get("/readyz").headers["retry-after"]
        for path in (f"/articles/{articles['su7_voltwire']}/related", "/search?q=xiaomi", "/stories",
                     "/related?url=https://voltwire.example/2024/03/28/xiaomi-su7-launch",
                     "/widget/related?url=https://voltwire.example/2024/03/28/xiaomi-su7-launch"):
            assert_problem(client.get(path), 503)
        assert client.get("/livez").status_code == 200
        assert client.get("/articles").status_code == 200  # the store alone is enough for these
        # `newsagg index` in another process publishes the first snapshot; the API picks it up by itself
        RelatedService(sqlite_store, api_settings, embedder=embedder).update_index()
        deadline = time.monotonic() + 30
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the first snapshot was not picked up"
            time.sleep(0.1)
        assert client.get(f"/articles/{articles['su7_voltwire']}/related").headers["x-index-version"] == "1"


def test_unknown_routes_and_methods_are_problems(client):
    assert_problem(client.get("/nowhere"), 404)
    r = client.delete("/articles")
    assert_problem(r, 405)
    assert r.headers["allow"] == "GET"
    r = client.put("/related")
    assert_problem(r, 405)
    assert r.headers["allow"] == "GET, POST"  # both routes at the path, not only the first one's


def test_an_unexpected_error_is_a_500_problem_without_a_trace(client, monkeypatch):
    def explode():
        raise RuntimeError("secret internal detail at /srv/newsagg/store.py line 42")

    monkeypatch.setattr(client.app.state.api.store, "sources", explode)
    quiet = TestClient(client.app, raise_server_exceptions=False)  # the app's lifespan is already running
    r = quiet.get("/sources")
    problem = assert_problem(r, 500)
    assert "secret" not in r.text and "store.py" not in r.text and "RuntimeError" not in r.text
    assert problem["detail"] == "an unexpected error occurred; it has been logged"


def test_unknown_methods_and_paths_share_bounded_metric_labels(client, articles):
    for i in range(30):
        client.request(f"RANDOM{i}", "/articles")
        client.get(f"/no/such/path/{i}")
    text = client.get("/metrics").text
    series = [line for line in text.splitlines() if line.startswith("newsagg_api_requests_total{")]
    methods = {re.search(r'method="([^"]*)"', line).group(1) for line in series}
    routes = {re.search(r'route="([^"]*)"', line).group(1) for line in series}
    assert methods == {"GET", "other"}
    assert 'newsagg_api_requests_total{method="other",route="/articles",status="405"} 30.0' in text
    assert "/no/such/path" not in text and "unmatched" in routes  # raw paths never become labels
