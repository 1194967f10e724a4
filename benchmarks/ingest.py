"""End-to-end ingest benchmark: crawl a generated local site (≥ 1,000 pages) → extract → store → embed → index.

    python benchmarks/ingest.py --pages 1000

Measured in the same run, on the same texts:
- ingest: the real crawl (`newsagg crawl` subprocess) while the real indexer (`RelatedService.update_index`) runs
  beside it, as `newsagg schedule` would; articles/s = pages / time until every article is stored AND indexed;
- embed-only: `update_index` over the same articles already in a store (embed + index + stories, no crawl);
- embed: our embedder alone (`Embedder.encode`) on the article texts, and plain `SentenceTransformer.encode`
  (torch fp32) on the same texts.
Last line: {"articles", "ingest_per_s", "embed_only_per_s", "embed_per_s", "st_torch_per_s"}.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from newsagg.config import Settings  # noqa: E402
from newsagg.demo import local_crawl_env  # noqa: E402
from newsagg.demo.content import load_articles  # noqa: E402
from newsagg.store import Store  # noqa: E402


def generate_pages(n: int, seed: int = 7) -> list[dict]:
    """n distinct articles: each mixes paragraphs of three demo articles (so no two bodies are near-duplicates)."""
    rng = random.Random(seed)
    pool = [a for a in load_articles() if a.on_topic]
    pages = []
    for i in range(n):
        parts = rng.sample(pool, 3)
        paragraphs = [p for a in parts for p in rng.sample(list(a.body), min(2, len(a.body)))]
        pages.append({
            "path": f"/news/{i:05d}.html",
            "title": f"{parts[0].title} — and what it means for {parts[1].keywords[0] if parts[1].keywords else 'EVs'}"
                     f" (#{i})",
            "author": parts[0].authors[0],
            "published": parts[0].published.isoformat(),
            "body": paragraphs,
        })
    return pages


def serve(pages: list[dict]) -> tuple[ThreadingHTTPServer, str]:
    by_path = {p["path"]: p for p in pages}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            base = f"http://{self.headers['Host']}"
            if self.path == "/robots.txt":
                body, ctype = b"User-agent: *\n", "text/plain"
            elif self.path == "/sitemap.xml":
                urls = "".join(f"<url><loc>{base}{p}</loc></url>" for p in by_path)
                body = (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                        f"{urls}</urlset>").encode()
                ctype = "application/xml"
            elif self.path in by_path:
                p = by_path[self.path]
                paras = "".join(f"<p>{escape(t)}</p>" for t in p["body"])
                ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": p["title"],
                                 "datePublished": p["published"], "author": {"@type": "Person", "name": p["author"]}})
                body = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(p['title'])}"
                        f"</title><script type='application/ld+json'>{ld}</script></head><body>"
                        f"<nav>Home | News | Reviews</nav><article><h1>{escape(p['title'])}</h1>{paras}</article>"
                        f"<footer>Generated benchmark site</footer></body></html>").encode()
                ctype = "text/html; charset=utf-8"
            else:
                body, ctype = b"not found", "text/plain"
            self.send_response(200 if ctype != "text/plain" or self.path == "/robots.txt" else 404)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def crawl_env(db_url: str, data_dir: Path) -> dict:
    # Our own local site: measure the pipeline, not politeness.
    return local_crawl_env(NEWSAGG_DATABASE_URL=db_url, NEWSAGG_DATA_DIR=str(data_dir),
                           NEWSAGG_CRAWL__CONCURRENT_PER_DOMAIN="8", NEWSAGG_CRAWL__AUTOTHROTTLE="false")


def service_for(db_url: str, data_dir: Path):
    from recommender.service import RelatedService

    settings = Settings(data_dir=data_dir, database_url=db_url)
    return RelatedService(Store(db_url), settings)


def run_ingest(base: str, n: int, work: Path) -> tuple[float, float]:
    """Crawl in a subprocess while this process indexes whatever has arrived; (total seconds, crawl seconds)."""
    registry = work / "bench.toml"
    registry.write_text(f'[[source]]\nname = "bench"\ntitle = "Bench"\nhomepage = "{base}/"\n'
                        f'sitemaps = ["{base}/sitemap.xml"]\nrobots_sitemaps = false\n'
                        f'allowed_domains = ["{base.split("//")[1]}"]\n', encoding="utf-8")
    db_url = f"sqlite:///{work / 'ingest.db'}"
    Store(db_url).close()  # migrate before two processes race to do it
    service = service_for(db_url, work / "data")
    t0 = time.perf_counter()
    crawl = subprocess.Popen([sys.executable, "-m", "newsagg.cli", "crawl", "--registry", str(registry), "--quiet"],
                             env=crawl_env(db_url, work / "data"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    crawl_s = None
    indexed = 0
    while True:
        stats = service.update_index()
        indexed = stats.total
        if crawl_s is None and crawl.poll() is not None:
            crawl_s = time.perf_counter() - t0
            continue  # one more pass picks up the last articles
        if crawl_s is not None and stats.added == 0:
            break
        if stats.added == 0:
            time.sleep(0.2)
    total = time.perf_counter() - t0
    if indexed < n * 0.98:
        print(f"WARNING: only {indexed} of {n} pages were stored and indexed", file=sys.stderr)
    return total, crawl_s or total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=1000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="newsagg-ingest-"))
    pages = generate_pages(args.pages)
    server, base = serve(pages)
    try:
        total_s, crawl_s = run_ingest(base, args.pages, work)
        stored = Store(f"sqlite:///{work / 'ingest.db'}")
        n = stored.count_articles()
        articles = list(stored.iter_articles())

        # embed-only: the same articles, already stored, through a fresh index and embedding table
        from recommender.embed import Embedder, article_text

        copy_db = work / "embed-only.db"
        shutil.copy(work / "ingest.db", copy_db)
        copy_url = f"sqlite:///{copy_db}"
        with Store(copy_url).session() as s:
            s.execute(__import__("sqlalchemy").text("DELETE FROM embeddings"))
        service = service_for(copy_url, work / "data-embed-only")
        t0 = time.perf_counter()
        service.update_index()
        embed_only_s = time.perf_counter() - t0

        settings = Settings(data_dir=work / "data")
        texts = [article_text(a.title, a.body, settings.embedding.lead_words) for a in articles]
        embedder = Embedder(settings.embedding, cache_dir=work / "data")
        embedder.encode(texts[:8])  # load + warm up outside the timing
        t0 = time.perf_counter()
        embedder.encode(texts)
        embed_s = time.perf_counter() - t0

        from sentence_transformers import SentenceTransformer

        from recommender.embed import resolve_model

        st = SentenceTransformer(resolve_model(settings.embedding.model), device="cpu")
        st.encode(texts[:8])
        t0 = time.perf_counter()
        st.encode(texts, batch_size=32, normalize_embeddings=True)
        st_s = time.perf_counter() - t0
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)

    rows = [
        ("ingest (crawl ∥ index, end to end)", n / total_s),
        ("  of which crawl → extract → store", n / crawl_s),
        ("embed-only (update_index on stored articles)", n / embed_only_s),
        (f"embed: our path ({settings.embedding.backend}, title + {settings.embedding.lead_words} words)", n / embed_s),
        ("embed: plain SentenceTransformer.encode, torch fp32", n / st_s),
    ]
    print(f"articles: {n}   machine: {os.cpu_count()} cores, CPU only")
    print(f"{'stage':<62}{'articles/s':>12}")
    for name, rate in rows:
        print(f"{name:<62}{rate:>12.1f}")
    print(f"ingest / embed-only = {(n / total_s) / (n / embed_only_s):.2f}   "
          f"our embed / plain ST = {(n / embed_s) / (n / st_s):.2f}")
    print(json.dumps({"articles": n, "ingest_per_s": round(n / total_s, 2),
                      "embed_only_per_s": round(n / embed_only_s, 2), "embed_per_s": round(n / embed_s, 2),
                      "st_torch_per_s": round(n / st_s, 2)}))


if __name__ == "__main__":
    main()
