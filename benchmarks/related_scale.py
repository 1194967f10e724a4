"""Related articles at archive scale, through the real code paths, beside today's full-scan path in the same run.

    python benchmarks/related_scale.py --n 100000 [--queries 2000] [--lists-budget 1200] [--data DIR]

1. build: N synthetic articles (benchmarks/archive.py: texts mixed from the demo articles, 32 sources, ~20 per
   event, two years, synthetic vectors stored in `embeddings` so nothing is embedded) bulk-inserted into SQLite, then
   `RelatedService.update_index()` (catalog, FAISS, word index, stories) with list materialization off, then the
   lists of every article (`ranked_lists`, as an update writes them). If that passes --lists-budget seconds, the
   rest of the lists are not built: the figure is extrapolated from a uniformly random sample, and says so.
2. serve, in a fresh process (its RSS is the service's, not the build's): load time, RSS, then `related(id)` over
   uniformly random ids (materialized: ids with a list; live: ranked now; fullscan: the pre-word-index candidates,
   every query scored against the whole TF-IDF matrix, same scoring after; free text: drafts the index has not
   seen, embedded by the shipped model and ranked, as `POST /related`), median of 3 passes of p50/p99.
3. update: 1,000 new articles (vectors stored: "beyond embedding them") through update_index(), lists included.
Last line JSON: {"n", "rss_mb", "load_s", "materialized_p99_ms", "live_p99_ms", "fullscan_p99_ms", "update_1000_s",
...}. Run on 2 shared cores: compare figures within a run, not across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from benchmarks.archive import SOURCES, Archive  # noqa: E402
from newsagg.config import IndexSettings, RelatedSettings, Settings  # noqa: E402
from newsagg.models import Article, Embedding, Source  # noqa: E402
from newsagg.store import Store  # noqa: E402
from recommender.embed import Embedder, article_text, text_hash  # noqa: E402
from recommender.related_lists import ranked_lists  # noqa: E402
from recommender.service import RelatedService  # noqa: E402

UPDATE_N = 1000


def settings_for(data: Path, materialize: bool = True) -> Settings:
    return Settings(data_dir=data, database_url=f"sqlite:///{data / 'newsagg.db'}",
                    index=IndexSettings(save_catalog=True), related=RelatedSettings(materialize=materialize))


def insert_articles(store: Store, archive: Archive, start: int, end: int, model: str, lead: int) -> None:
    for s in range(start, end, 5000):
        e = min(end, s + 5000)
        vectors = archive.vectors(s, e)
        rows, embs = [], []
        for a, v in zip(archive.articles(s, e), vectors):
            rows.append(dict(id=a.id, url=f"https://source{a.source:02d}.example/{a.id}", source_id=a.source + 1,
                             title=a.title, body=a.body, summary="", authors=[], tags=[], relevance=1.0,
                             paywalled=False, published_at=a.published, fetched_at=a.published,
                             content_hash=f"{a.id:016x}", near_dup_group=a.id))
            embs.append(dict(article_id=a.id, model=model, text_hash=text_hash(article_text(a.title, a.body, lead)),
                             vector=v.astype("<f4").tobytes()))
        with store.engine.begin() as conn:
            conn.execute(insert(Article.__table__), rows)
            conn.execute(insert(Embedding.__table__), embs)


def build(data: Path, n: int, lists_budget: float) -> dict:
    settings = settings_for(data, materialize=False)
    store = Store(settings.database_url)
    embedder = Embedder(settings.embedding)
    archive = Archive(n + UPDATE_N, dim=embedder.info.dim)
    t0 = time.perf_counter()
    with store.engine.begin() as conn:
        conn.execute(insert(Source.__table__), [
            {"id": i + 1, "name": f"source{i:02d}", "homepage": f"https://source{i:02d}.example/", "origin": "bench",
             "created_at": archive.article(0).published} for i in range(SOURCES)])
    insert_articles(store, archive, 0, n, embedder.info.key, settings.embedding.lead_words)
    insert_s = time.perf_counter() - t0
    service = RelatedService(store, settings, embedder=embedder)
    t0 = time.perf_counter()
    up = service.update_index()
    index_s = time.perf_counter() - t0
    catalog, index = service._ensure()
    order = list(range(1, n + 1))
    random.Random(3).shuffle(order)  # uniformly random: a budget cut leaves a uniform sample
    t0, done, deadline = time.perf_counter(), 0, time.perf_counter() + lists_budget
    for start in range(0, n, 500):
        chunk = order[start : start + 500]
        lists = ranked_lists(service.ranker, catalog, index, service.words, chunk, settings.related.materialized_length)
        done += service.lists.put(up.version, lists)
        if time.perf_counter() > deadline:
            break
    lists_s = time.perf_counter() - t0
    store.close()
    return {"insert_s": round(insert_s, 1), "index_s": round(index_s, 1), "lists_built": done,
            "lists_s": round(lists_s, 1), "lists_full_s": round(lists_s * n / max(done, 1), 1),
            "lists_extrapolated": done < n, "stories_touched": up.stories_touched}


def build_bulk(data: Path, n: int, rows_dir: Path, sample: int) -> dict:
    """The serving state by the bulk path (benchmarks/bulk_state.py), lists for a uniformly random sample."""
    from benchmarks.bulk_state import assemble

    settings = settings_for(data, materialize=False)
    store = Store(settings.database_url)
    embedder = Embedder(settings.embedding)
    with store.engine.begin() as conn:
        conn.execute(insert(Source.__table__), [
            {"id": i + 1, "name": f"source{i:02d}", "homepage": f"https://source{i:02d}.example/", "origin": "bench",
             "created_at": Archive(1).article(0).published} for i in range(SOURCES)])
    service = RelatedService(store, settings, embedder=embedder)
    t0 = time.perf_counter()
    built = assemble(service, rows_dir, n, sample, UPDATE_N)
    built.update(index_s=round(time.perf_counter() - t0, 1), insert_s=0.0, lists_full_s=None,
                 lists_extrapolated=True, stories_touched=0)
    store.close()
    return built


def percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50) * 1000), float(np.percentile(samples, 99) * 1000)


def passes(fn, ids: list[int], n_passes: int = 3) -> tuple[float, float]:
    """Median over passes of (p50, p99) in ms; every pass over a fresh uniformly random order of `ids`."""
    results = []
    for p in range(n_passes):
        order = list(ids)
        random.Random(100 + p).shuffle(order)
        lat = []
        for aid in order:
            t = time.perf_counter()
            fn(aid)
            lat.append(time.perf_counter() - t)
        results.append(percentiles(lat))
    return float(np.median([r[0] for r in results])), float(np.median([r[1] for r in results]))


def fullscan_related(service: RelatedService, matrix_t, aid: int):
    """Today's main: word candidates = the query's whole TF-IDF row against every article; the rest unchanged."""
    catalog, index = service._ensure()
    row = catalog.row(aid)
    q = catalog.features_of_rows([row])
    k = service.settings.related.candidates
    sims = (q.words @ matrix_t).toarray()[0]
    sims[~catalog.alive] = -1.0
    top = np.argpartition(-sims, k)[: k + 1]
    rows = {r for h in index.search(q.dense[:1], k)[0] if (r := catalog.row(h.article_id)) is not None}
    rows.update(int(r) for r in top[sims[top] > 0])
    cand = np.fromiter(rows, dtype=np.int64)
    scored = service.ranker.score(catalog, q, cand, {row}, query_row=row)
    return service.ranker.present(catalog, scored, catalog.meta[row].entities, catalog.meta[row].tags)


def rss_split_mb() -> tuple[int, int]:
    """(private, file-backed) resident MB: mapped catalog segments and word index pages are file-backed, shared by
    every process mapping them, and the kernel may drop them under memory pressure."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    kb = lambda k: int(fields.get(k, "0 kB").split()[0])  # noqa: E731
    return round(kb("RssAnon") / 1024), round((kb("RssFile") + kb("RssShmem")) / 1024)


def serve(data: Path, n: int, queries: int) -> dict:
    import psutil

    settings = settings_for(data)
    embedder = Embedder(settings.embedding, cache_dir=settings.data_dir)
    t0 = time.perf_counter()
    embedder.info  # the model (a fresh data dir first exports it to ONNX): its own figure, not the catalog's
    model_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    service = RelatedService(Store(settings.database_url), settings, embedder=embedder)
    service._ensure()
    service.words.reload()
    load_s = time.perf_counter() - t0
    rss_mb = psutil.Process().memory_info().rss / 2**20
    anon_mb, file_mb = rss_split_mb()
    with service.store.engine.connect() as conn:
        from sqlalchemy import text

        with_list = [r[0] for r in conn.execute(text("SELECT article_id FROM related_lists"))]
    rng = random.Random(5)
    ids_m = rng.sample(with_list, min(queries, len(with_list)))
    ids_all = rng.sample(range(1, n + 1), min(queries // 4, n))
    mat = passes(lambda a: service.related(a), ids_m)
    live = passes(lambda a: service.related(a, materialized=False), ids_all)
    # free text (POST /related): drafts the index has never seen (the update's articles, not inserted yet),
    # embedded by the shipped model, then ranked; the encode alone beside it says how much is the model's
    archive = Archive(n + UPDATE_N, dim=embedder.info.dim)  # the free-text drafts now, the update's articles after
    drafts = {a.id: a for a in archive.articles(n, n + min(UPDATE_N, 300))}
    lead = settings.embedding.lead_words
    text_live = passes(lambda i: service.related(title=drafts[i].title, body=drafts[i].body), list(drafts))
    text_embed = passes(lambda i: embedder.encode([article_text(drafts[i].title, drafts[i].body, lead)]), list(drafts))
    catalog, _ = service._ensure()
    t0 = time.perf_counter()
    matrix_t = catalog.words.matrix().T.tocsr()  # what today's main holds (plus the weighted copy) per process
    fullscan_prep_s = time.perf_counter() - t0
    full = passes(lambda a: fullscan_related(service, matrix_t, a), ids_all[: max(50, len(ids_all) // 2)])
    del matrix_t
    # 3. an update of 1,000 new articles, list maintenance and stories included (vectors already stored)
    store = service.store
    insert_articles(store, archive, n, n + UPDATE_N, embedder.info.key, settings.embedding.lead_words)
    t0 = time.perf_counter()
    up = service.update_index()
    update_s = time.perf_counter() - t0
    return {"load_s": round(load_s, 1), "model_load_s": round(model_s, 1), "rss_mb": round(rss_mb), "rss_anon_mb": anon_mb, "rss_file_mb": file_mb, "materialized_p50_ms": round(mat[0], 2),
            "materialized_p99_ms": round(mat[1], 2), "live_p50_ms": round(live[0], 2), "live_p99_ms": round(live[1], 2),
            "fullscan_p50_ms": round(full[0], 2), "fullscan_p99_ms": round(full[1], 2),
            "text_live_p50_ms": round(text_live[0], 2), "text_live_p99_ms": round(text_live[1], 2),
            "text_embed_p50_ms": round(text_embed[0], 2), "text_embed_p99_ms": round(text_embed[1], 2),
            "fullscan_prep_s": round(fullscan_prep_s, 1), "update_1000_s": round(update_s, 1),
            "update_lists_written": up.lists_written, "update_stories_touched": up.stories_touched,
            "queries": {"materialized": len(ids_m), "live": len(ids_all), "text": len(drafts)}}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=2000, help="uniformly random ids per materialized pass")
    ap.add_argument("--lists-budget", type=float, default=1200.0, help="seconds for building lists, then sample")
    ap.add_argument("--data", type=Path, help="keep the data here (default: a temporary directory)")
    ap.add_argument("--bulk", type=Path, help="build by the bulk path from this bulk_state.py directory (lists for "
                    "a uniformly random sample of --sample ids; stories not assigned)")
    ap.add_argument("--sample", type=int, default=3000, help="with --bulk: articles whose lists are materialized")
    ap.add_argument("--phase", choices=["all", "serve"], default="all", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.phase == "serve":
        print(json.dumps(serve(args.data, args.n, args.queries)))
        return {}
    if args.data:
        args.data.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="newsagg-scale-", dir=args.data) as tmp:
        data = Path(tmp)
        if args.bulk:
            built = build_bulk(data, args.n, args.bulk, args.sample)
            print(f"build  n={args.n:,}  BULK PATH (benchmarks/bulk_state.py: not update_index; stories not "
                  f"assigned; text rows of {min(args.n, built['bulk_derived_chunks'] * built['bulk_chunk']):,} articles derived, "
                  f"the rest reuse them): {json.dumps(built)}", flush=True)
            print(f"lists  materialized for a uniformly random sample of {built['lists_built']:,} articles "
                  f"({built['list_ms']} ms/list); materialized lookups are drawn uniformly over that sample",
                  flush=True)
        else:
            built = build(data, args.n, args.lists_budget)
            print(f"build  n={args.n:,}  insert {built['insert_s']} s  update_index (catalog, FAISS, words, stories) "
                  f"{built['index_s']} s  lists {built['lists_built']:,} in {built['lists_s']} s"
                  + (f" (EXTRAPOLATED to all: {built['lists_full_s']} s)" if built["lists_extrapolated"] else ""),
                  flush=True)
        out = subprocess.run([sys.executable, __file__, "--phase", "serve", "--data", str(data), "--n", str(args.n),
                              "--queries", str(args.queries)], capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"serve phase failed:\n{out.stderr[-3000:]}")
        served = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"serve  load {served['load_s']} s (model {served['model_load_s']} s before it, not included)  RSS {served['rss_mb']:,} MB (private {served['rss_anon_mb']:,}, "
          f"file-backed/shared {served['rss_file_mb']:,})")
    print(f"{'related(id), uniformly random ids':36}{'p50 ms':>10}{'p99 ms':>10}")
    for name in ("materialized", "live", "fullscan"):
        print(f"{name:36}{served[name + '_p50_ms']:10.2f}{served[name + '_p99_ms']:10.2f}")
    print(f"{'free text (POST /related), new drafts':36}{served['text_live_p50_ms']:10.2f}{served['text_live_p99_ms']:10.2f}")
    print(f"{'  of which: embedding the one text':36}{served['text_embed_p50_ms']:10.2f}{served['text_embed_p99_ms']:10.2f}")
    print(f"update {UPDATE_N} new articles: {served['update_1000_s']} s "
          f"({served['update_lists_written']} lists written, {served['update_stories_touched']} stories touched)")
    result = {"n": args.n, "rss_mb": served["rss_mb"], "load_s": served["load_s"],
              "materialized_p99_ms": served["materialized_p99_ms"], "live_p99_ms": served["live_p99_ms"],
              "fullscan_p99_ms": served["fullscan_p99_ms"], "update_1000_s": served["update_1000_s"],
              "materialized_p50_ms": served["materialized_p50_ms"], "live_p50_ms": served["live_p50_ms"],
              "fullscan_p50_ms": served["fullscan_p50_ms"], "text_live_p99_ms": served["text_live_p99_ms"],
              "text_live_p50_ms": served["text_live_p50_ms"], "text_embed_p99_ms": served["text_embed_p99_ms"],
              "build_index_s": built["index_s"],
              "lists_s": built["lists_s"], "lists_built": built["lists_built"],
              "lists_full_s": built["lists_full_s"], "lists_extrapolated": built["lists_extrapolated"],
              "rss_anon_mb": served["rss_anon_mb"], "rss_file_mb": served["rss_file_mb"],
              "model_load_s": served["model_load_s"], "bulk": bool(args.bulk), **({k: v for k, v in built.items() if k.startswith("bulk_")} if args.bulk else {})}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
