"""End-to-end ingest benchmark: crawl real-sized local pages → extract → store, indexed while the crawl runs.

    python benchmarks/ingest.py --pages 1000 [--passes 3] [--no-quality]

The site: --pages distinct articles (paragraphs of three demo articles each) rendered by the demo outlets' own
templates (newsagg/demo/templates.py), wrapped in the furniture of a real news page — inline styles and scripts,
a mega-menu, related-links and most-read blocks, reader comments, a sitemap footer — so every page is ≥ 60 KB
(the extraction dev set's median is ~120 KB). It is served by a separate process (no GIL shared with the indexer)
and crawled with the shipped politeness (robots.txt, 2 requests per site, AutoThrottle) except the delay.

Measured in the same run, on the same texts (median of --passes where a stage is repeated):
- ingest: the real crawl (`newsagg crawl` subprocess) while this process indexes with `newsagg.app.ingest.index_while`
  (as `newsagg index --follow-pid` beside a scheduled crawl): pages / time until all are stored AND indexed;
- embed-only: `update_index` over the same stored articles (embed + index + stories, no crawl);
- embed: our Embedder as shipped (onnx int8), our Embedder on the torch backend, and plain
  `SentenceTransformer.encode` (torch fp32), on the same texts (the stored articles' title + lead), alternating;
- quality: dev-set related P@5 (benchmarks/related.py, full text and titles) for each backend.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from newsagg.config import EmbeddingSettings, Settings  # noqa: E402
from newsagg.demo import local_crawl_env  # noqa: E402
from newsagg.store import Store  # noqa: E402

DEV_STORIES = REPO.parent / "shared" / "data" / "stories" / "ecbplus.jsonl"
MIN_PAGE_BYTES = 60_000


# ---- the site ---------------------------------------------------------------------------------------
def generate_pages(n: int, seed: int = 7) -> dict[str, str]:
    """path → HTML of n distinct article pages in the demo outlets' templates, with page furniture."""
    from newsagg.demo.content import build_pages
    from newsagg.demo.templates import render_article

    rng = random.Random(seed)
    pool = [p for p in build_pages() if p.expect == "stored" and not p.defect and not p.canonical]
    pages = {}
    for i in range(n):
        base = pool[i % len(pool)]
        mates = rng.sample([p.article for p in pool], 2)
        body = [*base.article.body[:3], *(para for a in mates for para in rng.sample(list(a.body), min(2, len(a.body))))]
        article = replace(base.article, slug=f"{base.article.slug}-{i:05d}", body=tuple(body),
                          title=f"{base.article.title} ({mates[0].keywords[0] if mates[0].keywords else 'EVs'}, #{i})")
        path = f"/{base.outlet}/{i:05d}/{article.slug}.html"
        page = replace(base, path=path, article=article)
        html = render_article(page, lambda outlet, p: f"http://bench.invalid{p}")
        pages[path] = with_furniture(html, rng, [a.title for a in mates])
    return pages


def with_furniture(html: str, rng: random.Random, headlines: list[str]) -> str:
    """The page plus what real article pages carry around the text, up to MIN_PAGE_BYTES and beyond."""
    sections = ["EVs", "Batteries", "Charging", "Autonomy", "Policy", "Reviews", "Chips", "Deals", "Podcasts"]
    menu = "".join(f'<li class="menu-item"><a href="/{s.lower()}/{k}">{s} {k}: latest news and analysis</a></li>'
                   for s in sections for k in range(18))
    style = "<style>" + "".join(f".c{k}{{margin:{k % 7}px;padding:{k % 5}px;color:#{k * 37 % 4096:03x}}}"
                                for k in range(900)) + "</style>"
    script = ("<script>window.dataLayer=window.dataLayer||[];" + "".join(
        f"function t{k}(e){{return e&&e.id?dataLayer.push({{ev:'v{k}',id:e.id,ts:Date.now()}}):null}}"
        for k in range(260)) + "</script>")
    related = "".join(f'<li><a href="/related/{rng.randrange(10**6)}">{h} — what it means for buyers</a></li>'
                      for h in headlines * 6)
    most_read = "".join(f'<li><a href="/most-read/{k}">Most read #{k}: {rng.choice(sections)} round-up</a></li>'
                        for k in range(20))
    comments = "".join(
        f'<div class="comment" id="c{k}"><span class="comment-author">reader{rng.randrange(9999)}</span>'
        f'<p>{rng.choice(["Great piece.", "I disagree with the range figures.", "Prices will drop next year.", "Source?"])}'
        f" Posted {k + 1} hours ago.</p></div>" for k in range(30))
    footer = "".join(f'<a href="/sitemap/{s.lower()}/{y}">{s} archive {y}</a> ' for s in sections for y in range(2005, 2027))
    html = html.replace("</head>", f"{style}{script}</head>", 1)
    html = re.sub(r"<body[^>]*>", lambda m: f'{m.group(0)}<nav class="mega-menu"><ul>{menu}</ul></nav>', html, count=1)
    tail = (f'<aside class="related-stories"><h3>Related stories</h3><ul>{related}</ul></aside>'
            f'<aside class="most-read"><h3>Most read</h3><ol>{most_read}</ol></aside>'
            f'<section class="comments-section"><h3>Comments</h3>{comments}</section>'
            f'<footer class="site-footer">{footer}</footer><!-- rendered by cms-{rng.randrange(99)} -->')
    html = html.replace("</body>", tail + "</body>", 1)
    while len(html.encode()) < MIN_PAGE_BYTES:
        html = html.replace("</head>", f"{script}</head>", 1)
    return html


def serve_forever(n: int, port_file: Path) -> None:
    """The site, in its own process: robots.txt, one sitemap, the pages."""
    pages = {path: html.encode() for path, html in generate_pages(n).items()}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            base = f"http://{self.headers['Host']}"
            status, ctype = 200, "text/html; charset=utf-8"
            if self.path == "/robots.txt":
                body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
            elif self.path == "/sitemap.xml":
                urls = "".join(f"<url><loc>{base}{p}</loc></url>" for p in pages)
                body = (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                        f"{urls}</urlset>").encode()
                ctype = "application/xml"
            elif self.path in pages:
                body = pages[self.path]
            else:
                status, body, ctype = 404, b"not found", "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sizes = sorted(len(b) for b in pages.values())
    port_file.write_text(json.dumps({"port": server.server_address[1], "median_bytes": sizes[len(sizes) // 2],
                                     "min_bytes": sizes[0]}), encoding="utf-8")
    server.serve_forever()


def start_site(n: int, work: Path) -> tuple[subprocess.Popen, str, dict]:
    port_file = work / "site.json"
    proc = subprocess.Popen([sys.executable, __file__, "--serve", "--pages", str(n), "--port-file", str(port_file)])
    while not port_file.exists() or not port_file.read_text():
        if proc.poll() is not None:
            raise RuntimeError("the benchmark site did not start")
        time.sleep(0.2)
    info = json.loads(port_file.read_text())
    return proc, f"http://127.0.0.1:{info['port']}", info


# ---- the stages -------------------------------------------------------------------------------------
def cpu_seconds(who: int) -> float:
    """User + system CPU of this process (RUSAGE_SELF, all threads) or of its finished children."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def service_for(db_url: str, data_dir: Path, models: Path):
    from recommender.service import RelatedService

    settings = Settings(data_dir=data_dir, database_url=db_url, embedding=EmbeddingSettings(cache_dir=models))
    return RelatedService(Store(db_url), settings)


def run_ingest(base: str, work: Path, models: Path, tag: str) -> dict:
    """Crawl in a subprocess while this process indexes what has arrived: seconds (total, crawl), articles
    indexed, and the CPU seconds of each side (the crawl subprocess; this process's indexing)."""
    from newsagg.app.ingest import index_while

    registry = work / "bench.toml"
    registry.write_text(f'[[source]]\nname = "bench"\ntitle = "Bench"\nhomepage = "{base}/"\n'
                        f'sitemaps = ["{base}/sitemap.xml"]\nrobots_sitemaps = false\n'
                        f'allowed_domains = ["{base.split("//")[1]}"]\n', encoding="utf-8")
    db_url = f"sqlite:///{work / f'ingest-{tag}.db'}"
    Store(db_url).close()  # migrate before two processes race to do it
    service = service_for(db_url, work / f"data-{tag}", models)
    service.embedder.encode(["warm-up"])  # model load is not ingest work (a running scheduler has it loaded)
    env = local_crawl_env(NEWSAGG_DATABASE_URL=db_url, NEWSAGG_DATA_DIR=str(work / f"data-{tag}"))
    crawl_cpu0, index_cpu0 = cpu_seconds(resource.RUSAGE_CHILDREN), cpu_seconds(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    crawl = subprocess.Popen([sys.executable, "-m", "newsagg.app.cli", "crawl", "--registry", str(registry), "--quiet"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    crawl_s: list[float] = []

    def crawling() -> bool:
        if crawl.poll() is None:
            return True
        crawl_s.append(crawl_s[0] if crawl_s else time.perf_counter() - t0)
        return False

    stats = index_while(service, crawling, service.settings.embedding.threads_while_crawling, poll_seconds=0.2)
    return {"total": time.perf_counter() - t0, "crawl": crawl_s[0], "indexed": stats.total,
            "index_passes": stats.passes, "lists_written": stats.lists_written,
            "crawl_cpu": cpu_seconds(resource.RUSAGE_CHILDREN) - crawl_cpu0,  # the crawl is the one child waited for
            "index_cpu": cpu_seconds(resource.RUSAGE_SELF) - index_cpu0}


def run_embed_only(ingest_db: Path, work: Path, models: Path, tag: str) -> tuple[float, float, int]:
    """update_index over the stored articles in a copy of the store without embeddings or index."""
    import sqlite3

    import sqlalchemy

    copy_db = work / f"embed-only-{tag}.db"
    # sqlite's backup, not a file copy: the newest rows may still be in the -wal file beside the database
    with contextlib.closing(sqlite3.connect(ingest_db)) as src, contextlib.closing(sqlite3.connect(copy_db)) as dst:
        src.backup(dst)
    url = f"sqlite:///{copy_db}"
    with Store(url).session() as s:
        s.execute(sqlalchemy.text("DELETE FROM embeddings"))
        stored = s.execute(sqlalchemy.text("SELECT count(*) FROM articles")).scalar_one()
    service = service_for(url, work / f"data-embed-only-{tag}", models)
    service.embedder.encode(["warm-up"])
    t0, cpu0 = time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF)
    stats = service.update_index()
    seconds, cpu = time.perf_counter() - t0, cpu_seconds(resource.RUSAGE_SELF) - cpu0
    if stats.embedded != stored:
        print(f"WARNING: embed-only embedded {stats.embedded} of {stored} stored articles", file=sys.stderr)
    return seconds, cpu, stats.lists_written


def time_encoders(texts: list[str], models: Path, passes: int) -> dict[str, float]:
    """Median seconds on the same texts, alternating: our Embedder as shipped (onnx int8), our Embedder on the
    torch backend, and plain SentenceTransformer.encode (torch fp32, the same batch size and length cap)."""
    from sentence_transformers import SentenceTransformer

    from recommender.embed import Embedder, resolve_model

    settings = Settings().embedding
    ours = Embedder(settings.model_copy(update={"cache_dir": models}))
    torch_path = Embedder(settings.model_copy(update={"backend": "torch"}))
    plain = SentenceTransformer(resolve_model(settings.model), device="cpu")
    plain.max_seq_length = min(settings.max_seq_length, plain.max_seq_length)
    runs = {"ours": lambda: ours.encode(texts), "torch": lambda: torch_path.encode(texts),
            "plain": lambda: plain.encode(texts, batch_size=settings.batch_size, normalize_embeddings=True,
                                         show_progress_bar=False)}
    ours.encode(texts[:64])  # load and warm up outside the timing
    torch_path.encode(texts[:64])
    plain.encode(texts[:64])
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(passes):
        for name, run in runs.items():
            t0 = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - t0)
    return {name: statistics.median(s) for name, s in seconds.items()} | {"backend": ours.backend}


def quality(backends: list[str], models: Path) -> dict[str, float]:
    """Dev-set related P@5 (full text, titles) per backend, through benchmarks/related.py."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_related", REPO / "benchmarks" / "related.py")
    related = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(related)
    out = {}
    for backend in backends:
        for mode in ("full", "title"):
            with contextlib.redirect_stdout(io.StringIO()):
                result = related.main(["--docs", str(DEV_STORIES), "--mode", mode, "--backend", backend,
                                       "--model-cache", str(models), "--no-baselines"])
            out[f"p5_{mode}_{backend}"] = result["p_at_5"]
    return out


# ---- the run ----------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--passes", type=int, default=3, help="repetitions of each stage (median reported)")
    parser.add_argument("--no-quality", action="store_true", help="skip the dev-set P@5 per backend")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve_forever(args.pages, args.port_file)

    work = Path(tempfile.mkdtemp(prefix="newsagg-ingest-"))
    models = work / "models"  # one ONNX build for every stage; built (offline) during the first warm-up
    site, base, site_info = start_site(args.pages, work)
    try:
        runs = []
        for k in range(args.passes):
            run = run_ingest(base, work, models, tag=str(k))
            run["embed_only"], run["embed_only_cpu"], run["embed_only_lists"] = run_embed_only(work / f"ingest-{k}.db", work, models, tag=str(k))
            runs.append(run)
        from recommender.embed import article_text

        articles = list(Store(f"sqlite:///{work / 'ingest-0.db'}").iter_articles())
        lead = Settings().embedding.lead_words
        texts = [article_text(a.title, a.body, lead) for a in articles]
        enc = time_encoders(texts, models, args.passes)
        scores = {} if args.no_quality or not DEV_STORIES.exists() else quality(["torch", "onnx"], models)
    finally:
        site.terminate()
        site.wait()
        shutil.rmtree(work, ignore_errors=True)
    report(args, site_info, runs, texts, enc, scores)


def report(args, site_info, runs: list[dict], texts, enc, scores) -> None:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    n = med("indexed")
    if n < args.pages * 0.98:
        print(f"WARNING: only {n} of {args.pages} pages were stored and indexed", file=sys.stderr)
    rates = {
        "ingest_per_s": n / med("total"), "crawl_per_s": n / med("crawl"), "embed_only_per_s": n / med("embed_only"),
        "embed_per_s": len(texts) / enc["ours"], "embed_torch_per_s": len(texts) / enc["torch"],
        "st_torch_per_s": len(texts) / enc["plain"],
    }
    cpu_ms = {"crawl_cpu_ms": 1000 * med("crawl_cpu") / n, "index_cpu_ms": 1000 * med("index_cpu") / n,
              "embed_only_cpu_ms": 1000 * med("embed_only_cpu") / n}
    # CPU an article of both sides of the ingest against embed-only: how much more work the overlap does, apart
    # from how well either side fills the cores (not a hard bound: embed-only has serial parts too)
    cpu_ratio = med("embed_only_cpu") / (med("crawl_cpu") + med("index_cpu"))
    ratios = {"ingest_vs_embed_only": rates["ingest_per_s"] / rates["embed_only_per_s"],
              "cpu_embed_only_vs_ingest": cpu_ratio,
              "ours_vs_st": rates["embed_per_s"] / rates["st_torch_per_s"],
              "ours_vs_torch_backend": rates["embed_per_s"] / rates["embed_torch_per_s"]}
    emb = Settings().embedding
    print(f"pages {args.pages} (median {site_info['median_bytes'] / 1000:.0f} KB, min "
          f"{site_info['min_bytes'] / 1000:.0f} KB), indexed {n:.0f}; {os.cpu_count()} cores, CPU only; "
          f"median of {args.passes} passes; embedding threads {emb.threads or 'all'}, "
          f"{emb.threads_while_crawling} while crawling; {len(texts)} texts of title + {emb.lead_words} words")
    rows = [
        ("ingest (crawl ∥ index, end to end)", rates["ingest_per_s"]),
        ("  of which crawl → extract → store", rates["crawl_per_s"]),
        ("embed-only (update_index on the stored articles)", rates["embed_only_per_s"]),
        (f"embed: our Embedder, {enc['backend']} (shipped)", rates["embed_per_s"]),
        ("embed: our Embedder, torch backend", rates["embed_torch_per_s"]),
        ("embed: plain SentenceTransformer.encode, torch fp32", rates["st_torch_per_s"]),
    ]
    print(f"{'stage (same texts for the three embed rows)':<58}{'articles/s':>12}")
    for name, rate in rows:
        print(f"{name:<58}{rate:>12.1f}")
    print(f"ingest / embed-only = {ratios['ingest_vs_embed_only']:.2f} (target ≥ 0.85)   "
          f"ours / plain ST = {ratios['ours_vs_st']:.2f} (target ≥ 2.5)   "
          f"ours / torch backend = {ratios['ours_vs_torch_backend']:.2f}")
    print(f"CPU per article: crawl → extract → store {cpu_ms['crawl_cpu_ms']:.0f} ms (the site's server not "
          f"counted), indexing beside it {cpu_ms['index_cpu_ms']:.0f} ms, embed-only "
          f"{cpu_ms['embed_only_cpu_ms']:.0f} ms (embed-only CPU / ingest CPU = {cpu_ratio:.2f})")
    # each pass beside the crawl also re-ranks the older articles its arrivals enter; one embed-only pass has none
    print(f"related lists written: {med('lists_written'):.0f} over {med('index_passes'):.0f} indexer passes beside "
          f"the crawl, {med('embed_only_lists'):.0f} in the one embed-only pass ({n:.0f} articles)")
    if scores:
        print("dev-set related P@5      full    title")
        for backend in ("torch", "onnx"):
            print(f"  {backend:<22}{scores[f'p5_full_{backend}']:8.3f}{scores[f'p5_title_{backend}']:9.3f}")
        gaps = [100 * (scores[f"p5_{m}_torch"] - scores[f"p5_{m}_onnx"]) for m in ("full", "title")]
        print(f"  onnx below torch by {gaps[0]:.2f} (full) and {gaps[1]:.2f} (title) points (target ≤ 0.5)")
    print(json.dumps({"pages": args.pages, "articles": n, "passes": args.passes, "backend": enc["backend"],
                      **{k: round(v, 2) for k, v in (rates | ratios | cpu_ms).items()},
                      "index_passes": med("index_passes"), "lists_written": med("lists_written"),
                      "embed_only_lists": med("embed_only_lists"), **scores}))


if __name__ == "__main__":
    main()
