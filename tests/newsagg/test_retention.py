"""`newsagg prune` on SQLite and PostgreSQL: what is past its retention is counted, and removed only with --yes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsagg.config import RetentionSettings
from newsagg.models import Article, CrawlRun, Embedding, SeenUrl, utcnow
from newsagg.retention import targets
from newsagg.store import Store
from recommender.vectors import retired_vectors

ROOT = Path(__file__).resolve().parents[2]
OLD = utcnow() - timedelta(days=400)
EXPECTED = {"seen URLs (not stored)": 1, "crawl runs": 1, "raw HTML of articles": 1,
            "embeddings of retired models": 1}


def fill(store: Store) -> tuple[int, int]:
    """Of each kind one row past the default retention and one within it (plus rows that must always stay)."""
    source = store.ensure_source("voltwire")
    ids = []
    for i, fetched in enumerate((OLD, utcnow())):
        article = Article(url=f"https://v.example/{i}", source_id=source, title=f"t{i}", content_hash=f"h{i}",
                          fetched_at=fetched)
        article.raw_html = "<html>" + "x" * 1000 + "</html>"
        ids.append(store.add_article(article))
    with store.session() as s:
        s.add_all([SeenUrl(url="https://v.example/offtopic-old", status="skipped/off_topic", seen_at=OLD),
                   SeenUrl(url="https://v.example/offtopic-new", status="skipped/off_topic", seen_at=utcnow()),
                   CrawlRun(group="g", started_at=OLD, status="finished"), CrawlRun(group="g", status="finished"),
                   Embedding(article_id=ids[0], model="all-MiniLM-L6-v2", text_hash="a", vector=b"\0" * 4),
                   Embedding(article_id=ids[0], model="retired-model", text_hash="a", vector=b"\0" * 4)])
        # a stored article's seen row stays however old: it is what keeps the article from being fetched again
        s.get(SeenUrl, "https://v.example/0").seen_at = OLD
    return ids[0], ids[1]


def table_counts(store: Store) -> dict[str, int]:
    with store.session() as s:
        return {"seen": s.scalar(select(func.count()).select_from(SeenUrl)),
                "runs": s.scalar(select(func.count()).select_from(CrawlRun)),
                "raw": s.scalar(select(func.count()).where(Article.raw_html_z.is_not(None))),
                "articles": s.scalar(select(func.count()).select_from(Article)),
                "vectors": s.scalar(select(func.count()).select_from(Embedding))}


def test_prune_counts_first_and_removes_only_when_applied(store):
    old_id, new_id = fill(store)
    before = table_counts(store)
    plan = [*targets(RetentionSettings()), *retired_vectors(RetentionSettings(), ["all-MiniLM-L6-v2"])]
    assert store.prune(plan, apply=False) == EXPECTED
    assert table_counts(store) == before  # a dry run changes nothing
    assert store.prune(plan, apply=True) == EXPECTED
    after = table_counts(store)
    assert after == {"seen": before["seen"] - 1, "runs": before["runs"] - 1, "raw": before["raw"] - 1,
                     "articles": before["articles"], "vectors": before["vectors"] - 1}
    assert store.get_article(old_id).raw_html is None and store.get_article(new_id).raw_html
    assert store.seen(["https://v.example/0", "https://v.example/offtopic-new"]) == {
        "https://v.example/0", "https://v.example/offtopic-new"}
    assert store.prune(plan, apply=True) == dict.fromkeys(EXPECTED, 0)


def test_zero_days_and_kept_models_keep_everything(store):
    fill(store)
    keep_all = RetentionSettings(seen_days=0, runs_days=0, raw_html_days=0, keep_models=["retired-model"])
    plan = [*targets(keep_all), *retired_vectors(keep_all, ["all-MiniLM-L6-v2"])]
    assert store.prune(plan, apply=True) == {"embeddings of retired models": 0}


@pytest.mark.slow
def test_the_prune_command_is_a_dry_run_unless_told_yes(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(url)
    fill(store)
    before = table_counts(store)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSAGG_DATABASE_URL": url, "NEWSAGG_DATA_DIR": str(tmp_path),
           "NEWSAGG_CONFIG": str(tmp_path / "none.toml"), "COLUMNS": "200",
           "NEWSAGG_EMBEDDING__BACKEND": "torch"}  # its vectors are stored under the plain model name

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "newsagg.app.cli", "prune", *args], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    out = run()
    assert "dry run" in out and "raw HTML of articles" in out
    assert table_counts(store) == before
    assert "pruned" in run("--yes")
    assert table_counts(store)["vectors"] == before["vectors"] - 1  # the configured model's vectors stay
    store.close()
