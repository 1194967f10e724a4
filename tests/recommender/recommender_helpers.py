"""Builders and shared fixtures for recommender tests.

Imported by name (tests/ is not a package). There is deliberately no tests/recommender/conftest.py: every
directory's conftest is imported as the one module `conftest`, so a second one here made `from conftest import …`
in other test folders resolve to the wrong file whenever both folders ran in one pytest process.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from newsagg.config import EmbeddingSettings, IndexSettings, RelatedSettings, Settings
from newsagg.models import Article
from recommender.embed import Embedder

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
STORIES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "stories" / "ecbplus.jsonl"


@functools.cache
def shared_embedder() -> Embedder:
    """The real default model (all-MiniLM-L6-v2, offline), loaded once per test process."""
    emb = Embedder(EmbeddingSettings())
    emb.encode(["warm up"])
    return emb


@pytest.fixture
def embedder() -> Embedder:
    """Test modules import this fixture by name (`from recommender_helpers import embedder`)."""
    return shared_embedder()


def make_settings(tmp_path: Path, **related) -> Settings:
    return Settings(data_dir=tmp_path, index=IndexSettings(), related=RelatedSettings(**related))


def add_article(store, title: str, body: str, source: str = "site-a", url: str | None = None,
                group: int | None = None, hours: float | None = 0.0, tags=()) -> int:
    """Store an article published `hours` after T0 (None: undated)."""
    url = url or f"https://{source}.example/{hashlib.md5(title.encode()).hexdigest()[:10]}"
    art = Article(
        url=url, source_id=store.ensure_source(source), title=title, body=body, tags=list(tags),
        published_at=T0 + timedelta(hours=hours) if hours is not None else None, near_dup_group=group,
        content_hash=hashlib.sha256((title + body + url).encode()).hexdigest(),
    )
    return store.add_article(art)
