"""Quality gate on the dev stories (ECB+): ranking and story floors, and never below same-run TF-IDF.

Runs on half the topics (benchmark split "b", about 20 events) to keep the runtime modest; the full benchmark is
benchmarks/related.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from recommender.service import RelatedService
from recommender_helpers import STORIES, embedder, make_settings  # noqa: F401  (embedder: a fixture)

pytestmark = pytest.mark.slow

P_AT_5_FLOOR = 0.955
B3_F1_FLOOR = 0.93


def _bench():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "related.py"
    spec = importlib.util.spec_from_file_location("bench_related", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def docs():
    if not STORIES.exists():
        pytest.skip(f"dev story set not found at {STORIES} (shared evaluation data absent)")
    return _bench().load_docs(STORIES, "b")


def test_related_and_stories_beat_floors_and_tfidf(docs, sqlite_store, embedder, tmp_path):
    bench = _bench()
    story = np.array([d["story_id"] for d in docs])
    topic = np.array([str(d["topic"]) for d in docs])
    service = RelatedService(sqlite_store, make_settings(tmp_path, per_source_cap=0, limit=10), embedder=embedder)
    art_to_doc = bench.store_docs(sqlite_store, docs, "full")
    doc_to_art = {i: a for a, i in art_to_doc.items()}
    service.update_index()
    ranked = [[art_to_doc[r.article_id] for r in service.related(doc_to_art[i])] for i in range(len(docs))]
    ours = bench.rank_metrics(ranked, story, topic)
    assign = service.story_assignments()
    b3 = bench.b_cubed(np.array([assign[doc_to_art[i]] for i in range(len(docs))]), story)

    x = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(
        [d["title"] + "\n" + d["text"] for d in docs]
    )
    tfidf = bench.rank_metrics(bench.ranked_by_matrix((x @ x.T).toarray()), story, topic)
    print(f"ours {ours} b3 {b3} tfidf {tfidf}")
    assert ours["p_at_5"] >= P_AT_5_FLOOR
    assert ours["p_at_5"] >= tfidf["p_at_5"]
    assert ours["hard5"] <= tfidf["hard5"]
    assert b3["b3_f1"] >= B3_F1_FLOOR
