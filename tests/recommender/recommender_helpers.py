"""Builders for recommender tests (`from tests.recommender.recommender_helpers import …`); the session-wide
`embedder` fixture is in tests/conftest.py."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

from newsagg.config import IndexSettings, RelatedSettings, Settings
from newsagg.models import Article

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
STORIES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "stories" / "ecbplus.jsonl"


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
