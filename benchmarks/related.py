"""Quality benchmark of related articles and stories on story-labelled news (ECB+ format).

    python benchmarks/related.py --docs ../shared/data/stories/ecbplus.jsonl --mode full|title [--topics a|b]

The docs go through the real code: Article rows in a temporary Store, RelatedService.update_index(), then
service.related() per doc and the service's story assignments. Baselines (TF-IDF cosine, raw embedding cosine
of the same text, TF-IDF average-link stories) are computed in the same run. Metrics (see shared/data/README.md):
P@5 = share of the top min(5, story size - 1) in the query's story (missing results count as misses, so the
score threshold cannot inflate it); hard5 = share of the top 5 from the same topic but another story;
MRR of the first same-story result; B³ precision/recall/F1 of the stories. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from newsagg.config import EmbeddingSettings, IndexSettings, RelatedSettings, Settings  # noqa: E402
from newsagg.models import Article  # noqa: E402
from newsagg.store import Store  # noqa: E402
from recommender.embed import Embedder  # noqa: E402
from recommender.service import RelatedService  # noqa: E402

TFIDF_STORY_THRESHOLD = 0.85  # fixed, not tuned per run: distance for the TF-IDF average-link baseline


def load_docs(path: Path, topics: str = "all") -> list[dict]:
    docs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if topics in ("a", "b"):
        # Held-out halves by topic (alternating in topic order), so tuning on one half can be checked on the other.
        order = sorted({str(d["topic"]) for d in docs}, key=lambda t: (len(t), t))
        half = {t for i, t in enumerate(order) if i % 2 == (0 if topics == "a" else 1)}
        docs = [d for d in docs if str(d["topic"]) in half]
    return docs


def doc_text(doc: dict, mode: str) -> tuple[str, str]:
    return doc["title"], (doc.get("text") or "") if mode == "full" else ""


def neutral_source(doc_id: str, sources: int = 32) -> str:
    """A source that says nothing about the story: a hash of the doc id over `sources` names. (Hostnames did:
    every url-less doc was `bench.invalid`, i.e. the source told ECB from ECB+ documents of one topic.)"""
    return f"source{int(hashlib.sha256(doc_id.encode()).hexdigest(), 16) % sources:02d}"


def store_docs(store: Store, docs: list[dict], mode: str) -> dict[int, int]:
    """Insert the docs as articles; returns article id → doc index."""
    out = {}
    for i, d in enumerate(docs):
        title, body = doc_text(d, mode)
        url = d.get("url") or f"https://bench.invalid/{d['doc_id']}"
        source = neutral_source(d["doc_id"])
        published = None
        if d.get("published"):
            published = datetime.fromisoformat(d["published"].replace("Z", "+00:00"))
            published = published if published.tzinfo else published.replace(tzinfo=timezone.utc)
        art = Article(
            url=url if d.get("url") else url, source_id=store.ensure_source(source), title=title, body=body,
            published_at=published, content_hash=hashlib.sha256(f"{d['doc_id']}{title}{body}".encode()).hexdigest(),
        )
        try:
            out[store.add_article(art)] = i
        except Exception:  # duplicate URL in the docs: keep the doc under a synthetic one
            art = Article(url=f"https://bench.invalid/{d['doc_id']}", source_id=art.source_id, title=title,
                          body=body, published_at=published, content_hash=art.content_hash)
            out[store.add_article(art)] = i
    return out


def rank_metrics(ranked: list[list[int]], story: np.ndarray, topic: np.ndarray) -> dict:
    """ranked[i] = doc indices returned for doc i, best first."""
    p5, hard, rr, short = [], [], [], 0
    for i, res in enumerate(ranked):
        size = int((story == story[i]).sum()) - 1
        k = min(5, size)
        top = res[:k]
        p5.append(sum(story[j] == story[i] for j in top) / k if k else 1.0)
        hard.append(sum(topic[j] == topic[i] and story[j] != story[i] for j in res[:5]) / 5)
        hit = next((r for r, j in enumerate(res) if story[j] == story[i]), None)
        rr.append(1.0 / (hit + 1) if hit is not None else 0.0)
        short += len(res) < k
    return {"p_at_5": float(np.mean(p5)), "hard5": float(np.mean(hard)), "mrr": float(np.mean(rr)), "short": short}


def ranked_by_matrix(sim: np.ndarray, k: int = 10) -> list[list[int]]:
    sim = sim.copy()
    np.fill_diagonal(sim, -np.inf)
    return [list(np.argsort(-row)[:k]) for row in sim]


def b_cubed(labels: np.ndarray, story: np.ndarray) -> dict:
    p, r = [], []
    for i in range(len(labels)):
        same_c, same_g = labels == labels[i], story == story[i]
        inter = (same_c & same_g).sum()
        p.append(inter / same_c.sum())
        r.append(inter / same_g.sum())
    p, r = float(np.mean(p)), float(np.mean(r))
    return {"b3_p": p, "b3_r": r, "b3_f1": 2 * p * r / (p + r) if p + r else 0.0}


def baselines(docs: list[dict], mode: str, embedder: Embedder, story: np.ndarray, topic: np.ndarray) -> dict:
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [d["title"] + ("\n" + d.get("text", "") if mode == "full" else "") for d in docs]
    x = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(texts)
    tfidf = (x @ x.T).toarray()
    t0 = time.perf_counter()
    e = embedder.encode(texts)  # the plain way: the whole text, truncated by the model
    embed_s = time.perf_counter() - t0
    dense = e @ e.T
    labels = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=TFIDF_STORY_THRESHOLD
    ).fit_predict(np.clip(1 - tfidf, 0, None))
    return {
        "tfidf": rank_metrics(ranked_by_matrix(tfidf), story, topic),
        "embed": rank_metrics(ranked_by_matrix(dense), story, topic),
        "tfidf_b3": b_cubed(labels, story),
        "plain_embed_docs_per_s": len(texts) / embed_s,
    }


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=Path, required=True)
    ap.add_argument("--mode", choices=["full", "title"], default="full")
    ap.add_argument("--topics", choices=["all", "a", "b"], default="all", help="held-out halves for tuning")
    ap.add_argument("--backend", default="torch", help="embedding backend (torch | onnx)")
    ap.add_argument("--model-cache", type=Path, default=None,
                    help="where the onnx export is cached (default: a fresh one in the run's temporary directory)")
    ap.add_argument("--source-cap", type=int, default=RelatedSettings().per_source_cap,
                    help="per-source cap (default: the shipped one; sources are neutral, see neutral_source)")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="override a RelatedSettings field")
    ap.add_argument("--no-baselines", action="store_true")
    args = ap.parse_args(argv)

    docs = load_docs(args.docs, args.topics)
    story = np.array([d["story_id"] for d in docs])
    topic = np.array([str(d["topic"]) for d in docs])
    overrides = {k: type(getattr(RelatedSettings(), k))(v) for k, v in (s.split("=", 1) for s in args.set)}
    with tempfile.TemporaryDirectory(prefix="newsagg-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            embedding=EmbeddingSettings(backend=args.backend, cache_dir=args.model_cache),
            index=IndexSettings(),
            related=RelatedSettings(per_source_cap=args.source_cap, limit=10, **overrides),
        )
        store = Store(settings.database_url)
        service = RelatedService(store, settings)
        art_to_doc = store_docs(store, docs, args.mode)
        doc_to_art = {i: a for a, i in art_to_doc.items()}
        service.embedder.encode(["warm-up"])
        t0 = time.perf_counter()
        up = service.update_index()
        index_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        ranked = [[art_to_doc[it.article_id] for it in service.related(doc_to_art[i])] for i in range(len(docs))]
        query_ms = (time.perf_counter() - t0) / len(docs) * 1000
        ours = rank_metrics(ranked, story, topic)
        assign = service.story_assignments()
        labels = np.array([assign.get(doc_to_art[i], -1 - i) for i in range(len(docs))])
        ours.update(b_cubed(labels, story))
        base = None if args.no_baselines else baselines(docs, args.mode, service.embedder, story, topic)
        store.close()

    print(f"docs {len(docs)}  stories {len(set(story))}  mode {args.mode}  topics {args.topics}  "
          f"backend {service.embedder.backend}")
    print(f"indexing (embed + index + stories) {index_s:.1f}s  embedded {up.embedded}  "
          f"related query {query_ms:.1f} ms/doc  stories {len(set(labels))}")
    print(f"{'':14}{'P@5':>8}{'hard5':>8}{'MRR':>8}{'<5 shown':>10}")
    rows = [("newsagg", ours)] + ([("tfidf", base["tfidf"]), ("raw-embed", base["embed"])] if base else [])
    for name, m in rows:
        print(f"{name:14}{m['p_at_5']:8.3f}{m['hard5']:8.3f}{m['mrr']:8.3f}{m['short']:10d}")
    print(f"{'stories':14}{'B3-P':>8}{'B3-R':>8}{'B3-F1':>8}")
    for name, m in [("newsagg", ours)] + ([("tfidf-avglink", base["tfidf_b3"])] if base else []):
        print(f"{name:14}{m['b3_p']:8.3f}{m['b3_r']:8.3f}{m['b3_f1']:8.3f}")
    result = {"docs": len(docs), "p_at_5": round(ours["p_at_5"], 4), "hard5": round(ours["hard5"], 4),
              "mrr": round(ours["mrr"], 4), "b3_f1": round(ours["b3_f1"], 4), "short_lists": ours["short"]}
    if base:
        rate = up.embedded / max(index_s, 1e-9)
        print(f"embedding: ours {rate:.1f} docs/s end-to-end (title+lead)  vs plain full-text encode "
              f"{base['plain_embed_docs_per_s']:.1f} docs/s")
        result.update(tfidf_p_at_5=round(base["tfidf"]["p_at_5"], 4), embed_p_at_5=round(base["embed"]["p_at_5"], 4),
                      tfidf_b3_f1=round(base["tfidf_b3"]["b3_f1"], 4))
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
