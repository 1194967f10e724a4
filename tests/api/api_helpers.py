"""Helpers for the API tests (`from tests.api.api_helpers import …`)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from newsagg.models import Article
from newsagg.store import Store

# Fixture keys (tests/fixtures/api/articles.json) by event.
XIAOMI = ("su7_voltwire", "su7_copy", "su7_autopulse", "su7_hostile", "su7_jsurl")
BYD = ("byd_voltwire", "byd_autopulse", "byd_chargecast")
WAYMO = ("waymo_voltwire", "waymo_autopulse")
PROBLEM_JSON = "application/problem+json"
READER = "https://reader.example"  # the site allowed to call and frame the API in these tests


def seed(store: Store, rows: list[dict]) -> dict[str, int]:
    """Insert fixture rows through Store.add_article; returns key → article id."""
    ids: dict[str, int] = {}
    for row in rows:
        article = Article(
            url=row["url"], source_id=store.ensure_source(row["source"], f"https://{row['source']}.example/"),
            title=row["title"], body=row["body"], summary=row.get("summary", ""), authors=row.get("authors", []),
            tags=row.get("tags", []), entities=row.get("entities", []), published_at=datetime.fromisoformat(row["published"]),
            content_hash=hashlib.sha256(row["url"].encode()).hexdigest(), near_dup_group=ids.get(row.get("copy_of")),
        )
        ids[row["key"]] = store.add_article(article)
    return ids


def assert_problem(response, status: int, field: str | None = None) -> dict:
    """An RFC 9457 problem document with this status (and, for 422, naming this field); no trace inside."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["type"] == "about:blank"
    assert "Traceback" not in response.text and 'File "' not in response.text
    if field is not None:
        assert field in [e["field"] for e in problem.get("errors", [])], problem
    return problem
