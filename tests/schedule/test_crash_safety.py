"""Crash safety, for real: processes killed with SIGKILL mid-crawl, mid-write and mid-index-update.

After each kill the next run must leave the store and the index as if nothing had happened: every expected article
exactly once, no article without its body/hash/seen entry, every stored article indexed, no vector or index entry
without an article, and never a half-written snapshot in use.
"""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
import sys
import time
import zlib
from datetime import timezone

import pytest
from tests.schedule.sched_support import crawl_env, expected_urls, wait_for
from sqlalchemy import delete, select, text

from newsagg.config import Settings
from newsagg.demo.content import load_articles
from newsagg.models import Article, Embedding, SeenUrl
from newsagg.app.schedule import Scheduler
from newsagg.store import Store

PY = sys.executable


def assert_whole_articles(store: Store) -> int:
    """Every article row complete (body matches its hash, HTML readable) with its seen entries; returns the count."""
    # One snapshot for both reads: on PostgreSQL a killed client's last COMMIT may still land meanwhile.
    options = {} if store.url.startswith("sqlite") else {"isolation_level": "REPEATABLE READ"}
    with store.engine.connect().execution_options(**options) as conn, conn.begin():
        rows = conn.execute(select(Article.id, Article.url, Article.title, Article.body, Article.content_hash,
                                   Article.minhash, Article.raw_html_z)).all()
        seen = {u: (status, aid) for u, status, aid in conn.execute(
            select(SeenUrl.url, SeenUrl.status, SeenUrl.article_id))}
    ids = {r.id for r in rows}
    for r in rows:
        assert r.title and r.body and len(r.content_hash) == 64 and r.minhash, f"half-written article {r.url}"
        assert seen.get(r.url, (None, None))[1] == r.id, f"article {r.url} without its seen entry"
        if r.raw_html_z is not None:
            assert zlib.decompress(r.raw_html_z)
    for url, (status, aid) in seen.items():
        assert status != "stored" or aid in ids, f"seen entry {url} points at a missing article {aid}"
    return len(rows)


# ---- the crawl --------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_crawl_killed_mid_way_then_completed(slow_sites, database_url, tmp_path):
    registry, _ = slow_sites.write_files(tmp_path)
    store = Store(database_url)
    wanted = expected_urls(slow_sites)
    argv = [PY, "-m", "newsagg.app.cli", "crawl", "--registry", str(registry), "--quiet"]
    env = crawl_env(database_url)
    victim = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: store.count_articles() >= 10, timeout=90, interval=0.05, what="10 stored articles")
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    partial = assert_whole_articles(store)
    assert 10 <= partial < len(wanted)
    assert store.runs()[0].status == "running"  # it never got to record its end (nor to save feed ETags)

    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-3000:]
    urls = [a.url for a in store.iter_articles()]
    assert len(urls) == len(set(urls))
    assert set(urls) == wanted, f"missing {sorted(wanted - set(urls))[:3]}, extra {sorted(set(urls) - wanted)[:3]}"
    run = store.runs()[0]
    assert run.status == "finished" and run.stats["new"] == len(wanted) - partial
    assert_whole_articles(store)
    store.close()


# ---- heavy writes -----------------------------------------------------------------------------------------
WRITER = r"""
import hashlib, sys, threading
from newsagg.models import Article
from newsagg.store import Store

store = Store(sys.argv[1], auto_migrate=False)
source = store.ensure_source("heavy")

def write(lane):
    for i in range(10**6):
        body = f"Battery plant {sys.argv[2]}-{lane}-{i}: " + "lithium iron phosphate cells and charging networks " * 400
        a = Article(url=f"https://heavy.example/{sys.argv[2]}/{lane}/{i}", source_id=source, title=f"Plant {i}",
                    body=body, content_hash=hashlib.sha256(body.encode()).hexdigest(), minhash=b"\x01" * 512)
        a.raw_html = "<html><body>" + body * 2 + "</body></html>"
        store.add_article(a, fetched_url=a.url + "?utm_source=feed")

lanes = [threading.Thread(target=write, args=(n,)) for n in range(3)]
for t in lanes:
    t.start()
for t in lanes:
    t.join()
"""


@pytest.mark.slow
def test_kill_during_heavy_writes_leaves_no_half_written_article(database_url, tmp_path):
    store = Store(database_url)
    rng = random.Random()
    for round_ in range(3):
        before = store.count_articles()
        writer = subprocess.Popen([PY, "-c", WRITER, database_url, f"r{round_}"], stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: store.count_articles() >= before + 20 or writer.poll() is not None, timeout=60,
                     interval=0.02, what="the writer writing")
            assert writer.poll() is None, writer.stderr.read()
            time.sleep(rng.uniform(0.0, 0.4))  # a random moment among the writes
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait()
        assert assert_whole_articles(store) > before
    with store.session() as s:
        for url, status, aid in s.execute(select(SeenUrl.url, SeenUrl.status, SeenUrl.article_id)):
            if url.endswith("?utm_source=feed"):  # the fetched URL went in with its article, or not at all
                assert status == "stored" and aid is not None
        if database_url.startswith("sqlite"):
            assert s.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        body_hashes = s.execute(select(Article.body, Article.content_hash)).all()
    assert all(hashlib.sha256(b.encode()).hexdigest() == h for b, h in body_hashes)  # no truncated body
    store.close()


# ---- the index --------------------------------------------------------------------------------------------
def _add_demo_articles(store: Store, limit: int) -> None:
    chosen = [a for a in load_articles() if a.on_topic][:limit]
    for a in chosen:
        body = "\n\n".join(a.body)
        store.add_article(Article(
            url=f"https://{a.outlet}.example/{a.slug}", source_id=store.ensure_source(a.outlet), title=a.title,
            authors=list(a.authors), published_at=a.published.astimezone(timezone.utc), summary=a.summary,
            body=body, tags=list(a.keywords)[:5] or ["ev"], relevance=0.9,
            content_hash=hashlib.sha256(body.encode()).hexdigest()))


@pytest.mark.slow
def test_index_update_killed_at_random_points_then_caught_up(tmp_path, monkeypatch):
    pytest.importorskip("faiss")
    from recommender.index import load_latest, snapshot_version
    from recommender.service import RelatedService

    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    for key, value in crawl_env(db, NEWSAGG_DATA_DIR=str(tmp_path)).items():
        if key.startswith("NEWSAGG_"):
            monkeypatch.setenv(key, value)
    settings = Settings()
    store = Store(db)
    _add_demo_articles(store, 30)
    snapshots = tmp_path / "index"
    scheduler = Scheduler(settings)
    argv = scheduler.index_argv()  # `newsagg index`

    for attempt in range(2):
        victim = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 7.0))
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        if snapshot_version(snapshots):  # whatever was published is whole: it loads and its checksum matches
            load_latest(snapshots, settings.index)
        if attempt == 0:  # articles deleted meanwhile: the catch-up must drop them from the index too
            with store.session() as s:
                gone = list(s.scalars(select(Article.id).order_by(Article.id).limit(3)))
                s.execute(delete(Article).where(Article.id.in_(gone)))
    # What a crash between the writes of a snapshot leaves: a temp file and a numbered file without a sidecar.
    snapshots.mkdir(exist_ok=True)
    (snapshots / ".tmp-index-00000090.faiss.x1").write_bytes(b"half")
    (snapshots / "index-00000090.faiss").write_bytes(b"half a snapshot")

    assert scheduler.update_index() is True, f"seed {seed}"  # the scheduler's catch-up at its next start
    with store.session() as s:
        stored = set(s.scalars(select(Article.id)))
        vectors = set(s.scalars(select(Embedding.article_id)))
    latest = load_latest(snapshots, settings.index)
    assert latest.meta.version != 90 and latest.ids() == stored, f"seed {seed}"
    assert vectors <= stored, f"seed {seed}: vectors without an article"
    info = RelatedService(Store(db), settings).index_info()
    assert info["count"] == len(stored) == 27 and info["version"] == snapshot_version(snapshots), f"seed {seed}"
    store.close()
