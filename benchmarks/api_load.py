"""Load benchmark of the HTTP API's related lookups over ≥ 100,000 synthetic articles.

    python benchmarks/api_load.py [--articles 100000] [--seconds 10] [--hot 1000] [--data DIR]
                                  [--lists none|neighbours|ranked]

1. A store and an index of synthetic articles, built fast: bulk INSERTs, and clustered random unit vectors
   written through the real index code (VectorIndex.build + save) and the `embeddings` table. The model embeds
   none of them (100k texts would take most of an hour on 2 cores), so the figures measure serving, not quality.
2. `newsagg api --port 0` in a subprocess over that data, as shipped (api.workers = 0: one worker per core); wait
   for /readyz.
   The word index is filled through the service (`update_index`: nothing new, so it only syncs the word index).
   Related lists (table related_lists), --lists: `ranked` = every article ranked as `newsagg index` would on
   arrival (N rankings: hours on 2 shared cores at 100k); `neighbours` = each article's FAISS neighbours written
   as its list (seconds; the same rows, lengths and read path as ranked ones, scores from the vectors alone, so
   the figures measure serving a materialized list, not its quality); `none` (default) = no lists, every first
   lookup of an id is a live ranking: the worst case a reader meets.
3. Headline: GET /articles/{id}/related over ids drawn uniformly from all N articles (each connection walks its
   own random permutation of them, so the byte-bounded cache as shipped rarely hits), --seconds at 64
   connections, then at 4, from a raw-socket HTTP/1.1 keep-alive client (asyncio) in this process.
4. Hot set, labelled as such: the newest --hot articles, each requested once (cold), then the same runs over
   them (after the warm-up, nearly all cache hits). Client and server share the same CPU cores.
5. The service in-process (RelatedService.related()) over uniformly random ids, after the server stopped.
Last line: JSON {"articles", "lists", "rps", "p50_ms", "p99_ms", "errors", "p99_ms_at_4", "inprocess_p99_ms"}
for the uniform runs (rps to errors at 64), then the same figures of the hot set prefixed `hot_`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from sqlalchemy import insert  # noqa: E402

from newsagg.config import Settings  # noqa: E402
from newsagg.models import Article, Embedding, Source  # noqa: E402
from newsagg.store import Store  # noqa: E402
from recommender.embed import Embedder, article_text, text_hash  # noqa: E402
from recommender.index import VectorIndex  # noqa: E402

SOURCES = 32
PER_CLUSTER = 20  # articles per synthetic event, on average
TARGET = {"rps": 1500.0, "p99_ms_at_4": 10.0}
LISTS = {"none": "none (every first lookup ranks live)", "ranked": "every article's real ranking",
         "neighbours": "every article's FAISS neighbours (real rows and read path, scores from the vectors)"}
SYLLABLES = "ka vo ri tes lo mi zen dra qu pol nex tri bo sa fer lu gan xi mor pe".split()
COMMON = "the a new car battery electric company launch price model sales market range charging update".split()


# ---- 1. synthetic data ---------------------------------------------------------------------------------
def settings_for(data: Path) -> Settings:
    return Settings(data_dir=data, database_url=f"sqlite:///{data / 'newsagg.db'}")


def build_data(data: Path, n: int, embedder: Embedder, seed: int = 7, lists: str = "none") -> dict:
    """Articles in clusters (shared made-up words, nearby vectors), stored and indexed without the model."""
    t0 = time.perf_counter()
    settings = settings_for(data)
    store = Store(settings.database_url)
    rng = np.random.default_rng(seed)
    key, dim, lead = embedder.info.key, embedder.info.dim, settings.embedding.lead_words
    clusters = max(1, n // PER_CLUSTER)
    vocab = np.array(["".join(rng.choice(SYLLABLES, 3)) for _ in range(20_000)])
    words = rng.integers(0, len(vocab), (clusters, 12))
    centres = _unit(rng.standard_normal((clusters, dim)).astype(np.float32))
    of = rng.integers(0, clusters, n)
    vectors = _unit(centres[of] + 0.06 * rng.standard_normal((n, dim)).astype(np.float32))
    day0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    cluster_day = rng.uniform(0, 365, clusters)
    with store.engine.begin() as conn:
        conn.execute(insert(Source.__table__), [
            {"id": i + 1, "name": f"source{i:02d}", "homepage": f"https://source{i:02d}.example/", "origin": "bench",
             "created_at": day0} for i in range(SOURCES)])
    for start in range(0, n, 10_000):
        rows, embeddings = [], []
        for i in range(start, min(n, start + 10_000)):
            aid, k = i + 1, int(of[i])
            w = vocab[words[k]]
            title = f"{w[0].capitalize()} {w[1]} {w[2]} {k}"
            body = " ".join(w[p] if j % 3 else COMMON[j % len(COMMON)] for j, p in enumerate(rng.integers(0, 12, 30)))
            rows.append(dict(
                id=aid, url=f"https://source{i % SOURCES:02d}.example/{aid}", source_id=i % SOURCES + 1, title=title,
                body=body, summary="", authors=[], tags=["ev"], relevance=1.0, paywalled=False,
                published_at=day0 + timedelta(days=float(cluster_day[k] + rng.uniform(0, 3))),
                fetched_at=day0 + timedelta(seconds=aid), content_hash=f"{aid:016x}", near_dup_group=aid))
            embeddings.append(dict(article_id=aid, model=key, text_hash=text_hash(article_text(title, body, lead)),
                                   vector=vectors[i].astype("<f4").tobytes()))
        with store.engine.begin() as conn:
            conn.execute(insert(Article.__table__), rows)
            conn.execute(insert(Embedding.__table__), embeddings)
    t1 = time.perf_counter()
    index = VectorIndex.build(key, np.arange(1, n + 1, dtype=np.int64), vectors, settings.index)
    version = index.save(data / "index")
    from recommender.service import RelatedService

    service = RelatedService(store, settings, embedder=embedder)
    service.update_index()  # fills the word index (nothing to embed)
    length = settings.related.materialized_length
    if lists == "ranked":  # every article's materialized list, as `newsagg index` would have written them on arrival
        from recommender.related_lists import ranked_lists

        catalog, index = service._ensure()
        service.lists.put(service.version, ranked_lists(service.ranker, catalog, index, service.words,
                                                        list(range(1, n + 1)), length))
    elif lists == "neighbours":
        service.lists.put(service.version, neighbour_lists(index, vectors, length))
    store.close()
    meta = {"articles": n, "lists": lists, "clusters": clusters, "seed": seed, "model": key, "kind": index.kind, "version": version,
            "insert_s": round(t1 - t0, 1), "index_s": round(time.perf_counter() - t1, 1)}
    (data / "bench-meta.json").write_text(json.dumps(meta))
    return meta


def neighbour_lists(index: VectorIndex, vectors: np.ndarray, length: int, batch: int = 2000):
    """(article id, packed list) of every article: its `length` nearest others by vector (ids are row + 1)."""
    from recommender.related_lists import pack

    for start in range(0, len(vectors), batch):
        for aid, hits in enumerate(index.search(vectors[start : start + batch], length + 1), start + 1):
            others = [h for h in hits if h.article_id != aid][:length]
            scores = [h.score for h in others]
            yield aid, pack([h.article_id for h in others], scores, scores)


def _unit(m: np.ndarray) -> np.ndarray:
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def ensure_data(data: Path, n: int, embedder: Embedder, lists: str) -> tuple[dict, bool]:
    """Reuse a matching dataset in `data` (from an earlier --data run), else build one."""
    meta_file = data / "bench-meta.json"
    if meta_file.exists():
        meta = json.loads(meta_file.read_text())
        if meta.get("articles") == n and meta.get("model") == embedder.info.key and meta.get("lists") == lists:
            return meta, True
        shutil.rmtree(data)
    data.mkdir(parents=True, exist_ok=True)
    return build_data(data, n, embedder, lists=lists), False


# ---- 2. the server -------------------------------------------------------------------------------------
class ApiProcess:
    """`newsagg api` on 127.0.0.1:<free port> over the benchmark data; stopped (and waited for) on exit."""

    def __init__(self, data: Path):
        env = {**os.environ, "NEWSAGG_DATA_DIR": str(data), "NEWSAGG_DATABASE_URL": f"sqlite:///{data / 'newsagg.db'}",
               "NEWSAGG_CONFIG": str(data / "no-such-newsagg.toml")}  # the cwd's newsagg.toml must not interfere
        self.log_path = data / "api.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "newsagg.app.cli", "api", "--host", "127.0.0.1", "--port", "0"],
            env=env, cwd=data, stdout=subprocess.PIPE, stderr=self._log, text=True)
        self.url = self._read_url()

    def _read_url(self) -> str:
        line = self.proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        if not match:
            self.stop()
            raise RuntimeError(f"the API did not start: {line!r}; see {self.log_path}")
        threading.Thread(target=lambda: [self._log.write(x) for x in self.proc.stdout], daemon=True).start()
        return match.group(0)

    def workers(self) -> int:
        import psutil

        return len(psutil.Process(self.proc.pid).children()) or 1  # pre-forked workers, or the server itself

    @property
    def port(self) -> int:
        return int(self.url.rstrip("/").rsplit(":", 1)[1])

    def wait_ready(self, timeout: float) -> dict:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the API exited ({self.proc.returncode}); see {self.log_path}")
            try:
                r = httpx.get(self.url + "readyz", timeout=5)
                if r.status_code == 200:
                    return r.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"the API was not ready within {timeout:.0f}s; see {self.log_path}")

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down gracefully), SIGKILL if it has not exited after 20 s; safe to repeat."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


# ---- 3./4. the client ------------------------------------------------------------------------------------
@dataclass
class Run:
    connections: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def ms(self, q: float) -> float:
        return float(np.percentile(self.latencies, q) * 1000) if self.latencies else float("nan")


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: bytes) -> int:
    writer.write(b"GET " + path + b" HTTP/1.1\r\nHost: bench\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    match = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.IGNORECASE)
    if match is None:
        raise ValueError("response without Content-Length")
    await reader.readexactly(int(match.group(1)))
    return int(head[9:12])


async def _connection(port: int, next_path, deadline: float, run: Run) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (path := next_path()) is not None and time.perf_counter() < deadline:
            t0 = time.perf_counter()
            try:
                status = await _get(reader, writer, path)
            except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                run.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            run.latencies.append(time.perf_counter() - t0)
            run.errors += status != 200
    finally:
        writer.close()


async def _drive(port: int, connections: int, paths: list[bytes], seconds: float | None) -> Run:
    """Closed loop: each connection sends its next request when the previous answer is in."""
    run = Run(connections)
    if seconds is None:  # each path once (warm-up), shared by the connections
        queue = iter(paths)
        deadline = float("inf")
        make_next = lambda _c: lambda: next(queue, None)  # noqa: E731
    else:
        def make_next(c: int):
            # numpy's permutation: shuffling a 100k list per connection in Python took longer than the run
            order = np.random.default_rng(c).permutation(len(paths))
            counter = iter(range(10**12))
            return lambda: paths[order[next(counter) % len(order)]]

    walks = [make_next(c) for c in range(connections)]  # before the clock starts
    if seconds is not None:
        deadline = time.perf_counter() + seconds
    t0 = time.perf_counter()
    await asyncio.gather(*(_connection(port, walk, deadline, run) for walk in walks))
    run.seconds = time.perf_counter() - t0
    return run


# ---- 5. in-process baseline ------------------------------------------------------------------------------
def inprocess_latency(data: Path, embedder: Embedder, ids: list[int], samples: int = 200) -> Run:
    from recommender.service import RelatedService

    store = Store(settings_for(data).database_url)
    service = RelatedService(store, settings_for(data), embedder=embedder)
    service.index_info()  # load, outside the measurement
    run = Run(1)
    t0 = time.perf_counter()
    for aid in random.Random(1).sample(ids, min(samples, len(ids))):
        t = time.perf_counter()
        service.related(aid, limit=service.settings.api.max_limit)
        run.latencies.append(time.perf_counter() - t)
    run.seconds = time.perf_counter() - t0
    store.close()
    return run


# ---- main ------------------------------------------------------------------------------------------------
def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each measured run")
    ap.add_argument("--hot", type=int, default=1000, help="newest articles the lookups are spread over")
    ap.add_argument("--data", type=Path, help="keep (and reuse) the synthetic data here instead of a temp dir")
    ap.add_argument("--lists", choices=("none", "neighbours", "ranked"), default="none",
                    help="materialized related lists of every article: none, FAISS neighbours, or real rankings")
    args = ap.parse_args(argv)

    embedder = Embedder(Settings().embedding)
    tmp = None if args.data else tempfile.mkdtemp(prefix="newsagg-api-bench-")
    data = (args.data or Path(tmp)).resolve()
    server = None
    try:
        meta, reused = ensure_data(data, args.articles, embedder, args.lists)
        how = ("reused from " + str(data)) if reused else f"built in {meta['insert_s'] + meta['index_s']:.1f} s"
        print(f"synthetic data: {meta['articles']:,} articles in {meta['clusters']:,} clusters, {SOURCES} sources "
              f"({how}; bulk INSERTs + synthetic clustered vectors through VectorIndex; the model embedded none); "
              f"materialized lists: {LISTS[meta['lists']]}")
        t0 = time.perf_counter()
        server = ApiProcess(data)
        ready = server.wait_ready(timeout=900)
        print(f"server: newsagg api at {server.url} (uvicorn {_server_stack()}), ready in "
              f"{time.perf_counter() - t0:.1f} s: {ready['index_kind']} index v{ready['index_version']} of "
              f"{ready['articles']:,} articles, model {ready['model']}")
        print(f"client: raw-socket HTTP/1.1 keep-alive (asyncio) in this process; client and server "
              f"({server.workers()} worker processes) share {os.cpu_count()} CPU cores")
        all_paths = [f"/articles/{i}/related".encode() for i in range(1, args.articles + 1)]
        runs = {c: asyncio.run(_drive(server.port, c, all_paths, args.seconds)) for c in (64, 4)}
        hot_ids = list(range(args.articles - args.hot + 1, args.articles + 1))
        paths = [f"/articles/{i}/related".encode() for i in hot_ids]
        warm = asyncio.run(_drive(server.port, 4, paths, None))
        print(f"hot set: the {args.hot:,} newest articles, each requested once first (cold lookups, 4 at a time: "
              f"p50 {warm.ms(50):.1f} ms, p99 {warm.ms(99):.1f} ms, {warm.errors} errors, {warm.seconds:.1f} s)")
        hot_runs = {c: asyncio.run(_drive(server.port, c, paths, args.seconds)) for c in (64, 4)}
        server.stop()  # before the in-process baseline: it must not share the CPU with an idle server's threads
        base = inprocess_latency(data, embedder, list(range(1, args.articles + 1)))
    finally:
        if server is not None:
            server.stop()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    for label, table in (("ids uniformly random over all articles", runs), ("HOT SET (pre-warmed, cached)", hot_runs)):
        print(f"GET /articles/{{id}}/related, {label}, {args.seconds:g} s per run:")
        print(f"  {'connections':>11} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for c, run in table.items():
            print(f"  {c:>11} {run.rps:>9,.0f} {run.ms(50):>8.2f} {run.ms(99):>8.2f} {run.errors:>7}")
    print(f"in-process RelatedService.related() on the same data (uniformly random ids, {len(base.latencies)} lookups): "
          f"p50 {base.ms(50):.1f} ms, p99 {base.ms(99):.1f} ms")
    result = {"articles": args.articles, "lists": meta["lists"], "rps": round(runs[64].rps, 1), "p50_ms": round(runs[64].ms(50), 2), "p99_ms": round(runs[64].ms(99), 2),
              "errors": runs[64].errors, "p99_ms_at_4": round(runs[4].ms(99), 2),
              "inprocess_p99_ms": round(base.ms(99), 2),
              "hot_rps": round(hot_runs[64].rps, 1), "hot_p50_ms": round(hot_runs[64].ms(50), 2),
              "hot_p99_ms": round(hot_runs[64].ms(99), 2), "hot_errors": hot_runs[64].errors,
              "hot_p99_ms_at_4": round(hot_runs[4].ms(99), 2), "hot_cold_p99_ms": round(warm.ms(99), 2)}
    met = (result["rps"] >= TARGET["rps"] and runs[64].errors == runs[4].errors == 0
           and result["p99_ms_at_4"] <= TARGET["p99_ms_at_4"])
    print(f"target (>= {TARGET['rps']:,.0f} req/s at 64 with 0 errors, p99 <= {TARGET['p99_ms_at_4']:g} ms at 4): "
          f"{'met' if met else 'NOT met'}")
    print(json.dumps(result))
    return result


def _server_stack() -> str:
    import importlib.util

    http = "httptools" if importlib.util.find_spec("httptools") else "h11 (httptools not installed)"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio (uvloop not installed)"
    return f"{http}, {loop}"


if __name__ == "__main__":
    main()
