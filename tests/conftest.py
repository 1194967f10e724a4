"""Shared fixtures: stores on SQLite (always) and PostgreSQL (when NEWSAGG_TEST_DATABASE_URL is set), the embedding
model (one per session), demo sites."""

from __future__ import annotations

import os
import uuid
import warnings
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from newsagg.store import Store

PG_URL = os.environ.get("NEWSAGG_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("NEWSAGG_TEST_REDIS_URL")
FIXTURES = Path(__file__).parent / "fixtures"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pytest_report_header(config):
    lines = []
    lines.append(f"PostgreSQL tests: {'ON (' + PG_URL + ')' if PG_URL else 'SKIPPED - set NEWSAGG_TEST_DATABASE_URL'}")
    lines.append(f"Redis tests: {'ON (' + REDIS_URL + ')' if REDIS_URL else 'SKIPPED - set NEWSAGG_TEST_REDIS_URL'}")
    return lines


def pytest_collection_modifyitems(config, items):
    """The `postgres` and `redis` markers follow the fixtures a test uses, so `-m "not postgres"` is truthful."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "pg_database_url" in item.fixturenames or params.get("database_url") == "postgresql":
            item.add_marker(pytest.mark.postgres)
        if {"redis_url", "redis_prefix"} & set(item.fixturenames):
            item.add_marker(pytest.mark.redis)


def _pg_url_with_schema(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No NEWSAGG_* variables and an empty working directory: settings come from defaults and what a test writes."""
    for key in list(os.environ):
        if key.startswith("NEWSAGG_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def pg_database_url():
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards (tests never share tables)."""
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: set NEWSAGG_TEST_DATABASE_URL to run the PostgreSQL variant")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_url_with_schema(schema).replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield request.getfixturevalue("pg_database_url")


@pytest.fixture
def store(database_url):
    s = Store(database_url)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.close()


@pytest.fixture(scope="session")
def embedder():
    """The real default model (all-MiniLM-L6-v2 on the configured backend, offline), loaded once per session and
    shared by every test that embeds in this process."""
    from newsagg.config import EmbeddingSettings
    from recommender.embed import Embedder

    emb = Embedder(EmbeddingSettings())
    emb.encode(["warm up"])
    return emb


@pytest.fixture(scope="session")
def demo_sites():
    """The bundled demo outlets served on 127.0.0.1 for the whole session."""
    from newsagg.demo.server import DemoSites

    with DemoSites() as sites:
        yield sites
