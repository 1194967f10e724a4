"""`newsagg retag` (crawler/retag.py): stored articles get "about" tags and entities from their stored text."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.relevance import RelevanceScorer
from crawler.retag import retag_store
from crawler.topics import default_tagger
from newsagg.demo.content import load_articles
from newsagg.models import Article
from newsagg.store import Store

BEFORE = Path(__file__).parents[2] / "benchmarks" / "tags" / "lexicon_before.toml"


def store_demo_articles(store: Store, event_id: str) -> dict:
    """As a crawl before "about" tags stored them: every mention a tag, plus the publisher's keywords."""
    old = RelevanceScorer(BEFORE)
    ids = {}
    for a in (a for a in load_articles() if a.event_id == event_id):
        body = "\n".join(a.body)
        tags = list(dict.fromkeys(old.score(a.title, body).tags + [k.lower() for k in a.keywords]))
        ids[store.add_article(Article(
            url=f"https://{a.outlet}.example/{a.slug}", source_id=store.ensure_source(a.outlet), title=a.title,
            summary=a.summary, body=body, tags=tags, relevance=0.5, content_hash=a.slug,
        ))] = a
    return ids


def test_retag_recomputes_tags_keeps_publisher_keywords_and_fills_entities(store):
    ids = store_demo_articles(store, "tesla-cheaper-model-y-standard")
    before = store.articles_by_ids(list(ids))
    assert all("cruise" in a.tags and a.entities == [] for a in before.values() if a.source_name == "voltwire")
    dry = retag_store(store, batch=3, dry_run=True)
    assert (dry.articles, dry.changed) == (4, 4)
    assert all(store.get_article(i).entities == [] for i in ids)  # a dry run writes nothing
    stats = retag_store(store, batch=3)
    assert (stats.articles, stats.changed) == (4, 4)
    lexicon = default_tagger().lexicon.kinds
    for aid, a in store.articles_by_ids(list(ids)).items():
        companies = [t for t in a.tags if lexicon.get(t) == "company"]
        assert companies == ["tesla"], a.tags
        keywords = [k.lower() for k in ids[aid].keywords if k.lower() not in lexicon]
        assert keywords and a.tags[-len(keywords):] == keywords  # the publisher's own keywords survive
        assert a.entities[0] == "tesla" and "cruise" not in a.entities
    assert retag_store(store, batch=3).changed == 0  # idempotent


@pytest.mark.slow
def test_retag_command(tmp_path):
    store = Store(f"sqlite:///{(tmp_path / 'newsagg.db').resolve()}")
    ids = store_demo_articles(store, "xiaomi-yu7-launch")
    store.close()
    env = {**os.environ, "NEWSAGG_DATA_DIR": str(tmp_path), "NEWSAGG_CONFIG": str(tmp_path / "none.toml")}
    done = subprocess.run([sys.executable, "-m", "newsagg.app.cli", "retag"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{len(ids)} article(s) read, {len(ids)} changed" in done.stdout
    store = Store(f"sqlite:///{(tmp_path / 'newsagg.db').resolve()}")
    assert all("nio" not in a.tags and "xiaomi" in a.tags for a in store.articles_by_ids(list(ids)).values())
    store.close()
