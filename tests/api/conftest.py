"""API fixtures: a small real SQLite store, the real service, the app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from newsagg.config import ApiSettings, EmbeddingSettings, Settings
from newsagg.models import Embedding
from recommender.api import create_app
from recommender.embed import article_text, text_hash
from recommender.service import RelatedService

from tests.api.api_helpers import READER, seed

ARTICLES = Path(__file__).resolve().parents[1] / "fixtures" / "api" / "articles.json"


@pytest.fixture
def fixture_rows() -> list[dict]:
    return json.loads(ARTICLES.read_text(encoding="utf-8"))["articles"]


@pytest.fixture(scope="session")
def fixture_vectors(embedder) -> dict[str, tuple[str, bytes]]:
    """url → (text hash, vector) of each fixture article, embedded by the real model once per session."""
    rows = json.loads(ARTICLES.read_text(encoding="utf-8"))["articles"]
    texts = [article_text(r["title"], r["body"], EmbeddingSettings().lead_words) for r in rows]
    vectors = embedder.encode(texts)
    return {r["url"]: (text_hash(t), v.astype("<f4").tobytes()) for r, t, v in zip(rows, texts, vectors)}


@pytest.fixture
def articles(sqlite_store, fixture_rows, fixture_vectors, embedder) -> dict[str, int]:
    """The fixture articles, stored: key → id. Their session-wide vectors are stored with them, so indexing
    reuses them instead of embedding again (a changed text hash would simply mean embedding again)."""
    ids = seed(sqlite_store, fixture_rows)
    with sqlite_store.session() as s:
        s.add_all(Embedding(article_id=ids[r["key"]], model=embedder.info.key, text_hash=fixture_vectors[r["url"]][0],
                            vector=fixture_vectors[r["url"]][1]) for r in fixture_rows)
    return ids


@pytest.fixture
def api_settings(tmp_path, sqlite_store) -> Settings:
    return Settings(
        data_dir=tmp_path, database_url=sqlite_store.url,
        api=ApiSettings(refresh_interval=0.1, cors_origins=[READER], frame_ancestors=[READER, "'self'"]),
    )


@pytest.fixture
def service(sqlite_store, api_settings, embedder, articles) -> RelatedService:
    """The real service over the fixture store, with a published index snapshot."""
    svc = RelatedService(sqlite_store, api_settings, embedder=embedder)
    svc.update_index()
    return svc


@pytest.fixture
def client(service, api_settings):
    with TestClient(create_app(api_settings, service, wait_ready=True)) as c:
        yield c
