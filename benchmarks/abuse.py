"""Abuse benchmark: a fixed list of hostile requests against a running API, and hostile feeds and sitemaps
against a real crawl. Everything stays on 127.0.0.1; every loop is bounded.

    python benchmarks/abuse.py [--articles 2000] [--data DIR] [--no-crawl]

1. A store of realistic-size articles (body + ~100 KB raw HTML each, newsagg/demo/heavy.py) with random unit
   vectors written through the real index code (the model embeds none of them: this measures robustness).
2. `newsagg api --port 0` over it (benchmarks/api_load.py's ApiProcess), its RSS sampled every 10 ms (psutil).
3. The HTTP cases (raw sockets, so that methods, headers and bodies go out exactly as written): each prints its
   outcome; after each the API must still answer /livez, else the case counts as a crash.
4. Memory: 20 parallel `/articles?tag=zzz&limit=100` (a tag no article has), RSS growth against the growth
   of 20 parallel `/livez` measured just before in the same run.
5. The crawl cases: a local hostile publisher (tests/crawler/test_hostile.py's, plus malformed feeds and
   sitemaps) crawled by the real spider, one `newsagg crawl` per case; a crash is a traceback or a failed exit.
Last line: JSON {"cases", "crashes", "5xx", "peak_rss_mb", ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE)]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import httpx  # noqa: E402
import numpy as np  # noqa: E402
import psutil  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from api_load import ApiProcess, settings_for  # noqa: E402
from newsagg.config import EmbeddingSettings  # noqa: E402
from newsagg.demo.heavy import fill_heavy_store  # noqa: E402
from newsagg.models import Article, Embedding  # noqa: E402
from newsagg.store import ArticleFilter, Store  # noqa: E402
from recommender.embed import Embedder, article_text, text_hash  # noqa: E402
from recommender.index import VectorIndex  # noqa: E402

TIMEOUT = 20.0


# ---- 1. data -----------------------------------------------------------------------------------------------
def build_data(data: Path, n: int) -> None:
    settings = settings_for(data)
    store = Store(settings.database_url)
    fill_heavy_store(store, n)
    info = Embedder(EmbeddingSettings()).info
    rng = np.random.default_rng(3)
    rows = [(aid, title, body) for page in store.iter_texts() for aid, title, _, body, *_ in page]
    ids = np.asarray([aid for aid, _, _ in rows], dtype=np.int64)
    vectors = rng.standard_normal((len(rows), info.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    lead = settings.embedding.lead_words
    with store.engine.begin() as conn:
        conn.execute(insert(Embedding.__table__), [
            {"article_id": aid, "model": info.key, "text_hash": text_hash(article_text(title, body, lead)),
             "vector": v.astype("<f4").tobytes()} for (aid, title, body), v in zip(rows, vectors)])
    VectorIndex.build(info.key, ids, vectors, settings.index).save(data / "index")
    store.close()


def row_bytes_per_listing(data: Path, limit: int = 100) -> tuple[float, float]:
    """MB of column data one `?tag=zzz&limit=100` request loads: the old way (full rows, a window of limit × 50
    scanned in Python for the tag) against now (listing columns of the rows that match, here none)."""
    from sqlalchemy import func

    store = Store(settings_for(data).database_url)
    full = (func.length(Article.body) + func.coalesce(func.length(Article.raw_html_z), 0)
            + func.coalesce(func.length(Article.minhash), 0)
            + func.length(Article.title) + func.length(Article.summary))
    with store.session() as s:
        window = select(full.label("n")).order_by(Article.id.desc()).limit(limit * 50).subquery()
        old = s.scalar(select(func.sum(window.c.n))) or 0
        now = sum(len(a.title) + len(a.summary) + len(a.url) for a in store.list_articles(
            ArticleFilter(tag="zzz", limit=limit)))
    store.close()
    return old / 2**20, now / 2**20


# ---- 2./3. raw HTTP ------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    status: int | None  # None: no response (closed, reset or timed out)
    note: str = ""
    response: bytes = b""  # the first MiB of it


def exchange(port: int, payload: bytes | Callable[[socket.socket], None], timeout: float = TIMEOUT) -> Outcome:
    """Send bytes (or let `payload(sock)` write), read the status line of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            payload(sock) if callable(payload) else sock.sendall(payload)
        except OSError as exc:  # the server may close a connection before reading all of a hostile request
            return _read_status(sock) if isinstance(exc, BrokenPipeError) else Outcome(None, type(exc).__name__)
        return _read_status(sock)


def _read_status(sock: socket.socket) -> Outcome:
    head = b""
    try:  # every request says Connection: close, so the answer ends when the server closes
        while len(head) < 2**20:
            chunk = sock.recv(65536)
            if not chunk:
                break
            head += chunk
    except OSError as exc:
        if not head.startswith(b"HTTP/"):
            return Outcome(None, type(exc).__name__)
    if not head.startswith(b"HTTP/"):
        return Outcome(None, "closed without an answer")
    return Outcome(int(head.split()[1]), response=head)


def request(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    merged = {"Host": "127.0.0.1", "Connection": "close"}
    if body or method == "POST":
        merged["Content-Length"] = str(len(body))
    merged.update(headers or {})
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in merged.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def get(path: str, **headers: str) -> bytes:
    return request("GET", path, headers)


def post_json(body: bytes, path: str = "/related", **headers: str) -> bytes:
    return request("POST", path, {"Content-Type": "application/json", **headers}, body)


def slow_body(port: int) -> Callable[[socket.socket], None]:
    """Slowloris on the body: a declared 100 kB trickled 10 bytes per 0.1 s for 3 s, while /livez must answer."""
    def run(sock: socket.socket) -> None:
        sock.sendall(request("POST", "/related", {"Content-Type": "application/json", "Content-Length": "100000"}))
        for _ in range(30):
            sock.sendall(b"          ")
            time.sleep(0.1)
        live = exchange(port, get("/livez"), timeout=5)
        if live.status != 200:
            raise RuntimeError("the API stopped answering during a slow body")
        sock.shutdown(socket.SHUT_WR)
    return run


def slow_headers(port: int, connections: int = 100) -> Callable[[socket.socket], None]:
    """Slowloris on the headers: 100 connections each sending a header byte every 0.25 s for 3 s."""
    def run(sock: socket.socket) -> None:
        socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(connections)]
        try:
            for s in socks:
                s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n")
            for _ in range(12):
                for s in socks:
                    try:
                        s.sendall(b"X")
                    except OSError:
                        pass
                time.sleep(0.25)
            sock.sendall(get("/livez"))  # a fresh client is still served meanwhile
        finally:
            for s in socks:
                s.close()
    return run


def many_unknown_methods(port: int, n: int = 200) -> Callable[[socket.socket], None]:
    def run(sock: socket.socket) -> None:
        for i in range(n):
            exchange(port, request(f"RANDOM{i}", "/articles"))
        sock.sendall(get("/metrics"))
    return run


def deep_json(levels: int) -> bytes:
    return b'{"title": "x", "text": "y", "limit": ' + b"[" * levels + b"]" * levels + b"}"


def http_cases(port: int, known_id: int, known_url: str) -> list[tuple]:
    """(name, request bytes or a writer, optionally bytes the answer must not contain)."""
    long_url = "https://a.example/" + "a" * 8000
    return [
        ("limit far over the maximum", get("/articles?limit=100000")),
        ("negative limit", get("/articles?limit=-1")),
        ("limit not a number", get("/articles?limit=abc")),
        ("limit given twice", get("/articles?limit=1&limit=100000")),
        ("cursor of 20 digits", get("/articles?cursor=99999999999999999999")),
        ("cursor negative", get("/articles?cursor=-1")),
        ("cursor as a float overflow", get("/articles?cursor=1e9999")),
        ("cursor of no article", get("/articles?cursor=424242424")),
        ("cursor tampered with SQL", get("/articles?cursor=1%20OR%201=1")),
        ("rare tag, page of 100", get("/articles?tag=zzz&limit=100")),
        ("tag of 10 kB", get("/articles?tag=" + "t" * 10_000)),
        ("tag with a NUL byte", get("/articles?tag=%00")),
        ("LIKE wildcards as keyword", get("/articles?q=%25%25_%25")),
        ("keyword over the length bound", get("/articles?q=" + "q" * 400)),
        ("date not RFC 3339", get("/articles?since=yesterday")),
        ("date at the edge of time", get("/articles?since=9999-12-31T23:59:59-23:59")),
        ("source with markup", get("/articles?source=%3Cscript%3E")),
        ("article id of 20 digits", get("/articles/99999999999999999999")),
        ("article id superscript two", get("/articles/%C2%B2")),
        ("article id negative", get("/articles/-1")),
        ("related limit far over the maximum", get(f"/articles/{known_id}/related?limit=1000000")),
        ("related min_score NaN", get(f"/articles/{known_id}/related?min_score=NaN")),
        ("related of a javascript: URL", get("/related?url=javascript:alert(1)")),
        ("related of an 8 kB URL", get("/related?url=" + long_url)),
        ("related of a malformed IPv6 URL", get("/related?url=http://[::1")),
        ("widget with markup in the URL", get("/widget/related?url=%22%3E%3Cscript%3Ealert(1)%3C/script%3E")),
        ("feed over the page bound", get("/feed.atom?limit=101")),
        ("feed with a spoofed Host", request("GET", "/feed.atom?limit=5", {"Host": "evil.example"}), b"evil"),
        ("widget with a spoofed Host", request("GET", f"/widget/related?url={known_url}", {"Host": "evil.example"}),
         b"evil"),
        ("search over the length bound", get("/search?q=" + "s" * 400)),
        ("search in an unknown mode", get("/search?q=ev&mode=evil")),
        ("semantic search for punctuation", get("/search?q=%2A%2A%2A&mode=semantic")),
        ("stories limit huge", get("/stories?limit=1000000000")),
        ("story id of 20 digits", get("/stories/99999999999999999999")),
        ("draft JSON nested 20,000 deep", post_json(deep_json(20_000))),
        ("draft JSON with a lone surrogate", post_json(b'{"title": "x", "text": "\\ud800"}')),
        ("draft limit 1e400", post_json(b'{"title": "x", "limit": 1e400}')),
        ("draft limit true", post_json(b'{"title": "x", "limit": true}')),
        ("draft not JSON", post_json(b"{not json")),
        ("draft as text/plain", request("POST", "/related", {"Content-Type": "text/plain"}, b"title=x")),
        ("draft text over the bound", post_json(json.dumps({"text": "w " * 15_000}).encode())),
        ("body of 50 MB declared", request("POST", "/related", {"Content-Type": "application/json",
                                                                "Content-Length": str(50 * 2**20)})),
        ("chunked body past the limit", request("POST", "/related", {"Content-Type": "application/json",
                                                                     "Transfer-Encoding": "chunked"},
                                                b"".join(b"4000\r\n" + b" " * 0x4000 + b"\r\n" for _ in range(12))
                                                + b"0\r\n\r\n")),
        ("Content-Length not a number", request("POST", "/related", {"Content-Length": "abc"})),
        ("Content-Length and chunked (smuggling)", request("POST", "/related", {"Content-Length": "5",
                                                                                "Transfer-Encoding": "chunked"},
                                                           b"0\r\n\r\n")),
        ("slowloris body", slow_body(port)),
        ("slowloris headers, 100 connections", slow_headers(port)),
        ("unknown method", request("RANDOM123", "/articles")),
        ("200 unknown methods, then /metrics", many_unknown_methods(port)),
        ("method with a NUL byte", b"GE\x00T / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("100 headers of 8 kB", request("GET", "/livez", {f"X-H{i}": "h" * 8000 for i in range(100)})),
        ("request line of 100 kB", get("/" + "a" * 100_000)),
        ("path traversal", get("/../../etc/passwd")),
        ("HTTP/1.0 without Host", b"GET /articles HTTP/1.0\r\n\r\n"),
        ("not HTTP at all", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64)),
        ("query of 5,000 parameters", get("/articles?" + "&".join(f"p{i}=1" for i in range(5000)))),
    ]


class PeakRss:
    """A process's RSS sampled every 10 ms in a thread: `peak` overall, `window_peak` since `mark()`."""

    def __init__(self, pid: int):
        self.process, self.peak, self.window_peak = psutil.Process(pid), 0, 0
        self._stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                rss = self.process.memory_info().rss
            except psutil.Error:
                return
            self.peak, self.window_peak = max(self.peak, rss), max(self.window_peak, rss)
            time.sleep(0.01)

    def now(self) -> int:
        return self.process.memory_info().rss

    def mark(self) -> int:
        self.window_peak = rss = self.now()
        return rss

    def stop(self) -> None:
        self._stop.set()


def parallel_growth_mb(api: ApiProcess, rss: PeakRss, path: str, n: int = 20) -> float:
    base = rss.mark()
    with ThreadPoolExecutor(n) as pool:
        outcomes = list(pool.map(lambda _: exchange(api.port, get(path), timeout=120), range(n)))
    bad = [o for o in outcomes if o.status != 200]
    if bad:
        raise RuntimeError(f"{path}: {bad[:3]}")
    return (rss.window_peak - base) / 2**20


def run_http(api: ApiProcess, rss: PeakRss, known: tuple[int, str]) -> list[dict]:
    results = []
    for name, payload, *forbidden in http_cases(api.port, *known):
        t0 = time.perf_counter()
        try:
            outcome = exchange(api.port, payload)
        except Exception as exc:  # noqa: BLE001 — a failing probe is reported, never the end of the benchmark
            outcome = Outcome(None, f"probe failed: {type(exc).__name__}: {exc}")
        alive = api.proc.poll() is None and exchange(api.port, get("/livez"), timeout=10).status == 200
        if forbidden and forbidden[0] in outcome.response:
            outcome.note = f"LEAK: answer contains {forbidden[0]!r}"
        elif b"Traceback" in outcome.response:
            outcome.note = "LEAK: a traceback"
        results.append({"kind": "http", "case": name, "status": outcome.status, "note": outcome.note,
                        "crash": not alive, "ms": round((time.perf_counter() - t0) * 1000)})
        print(f"  http  {name:<42} {outcome.status or '-':>4} {outcome.note:<26} "
              f"{'CRASH' if not alive else 'alive'}  rss {rss.now() / 2**20:.0f} MB", flush=True)
        if not alive:
            break
    return results


def metric_methods(api: ApiProcess) -> set[str]:
    text = httpx.get(api.url + "metrics", timeout=30).text
    return set(re.findall(r'newsagg_api_requests_total\{method="([^"]*)"', text))


# ---- main -----------------------------------------------------------------------------------------------------
def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--data", type=Path, default=None, help="Work directory (default: a temporary one).")
    ap.add_argument("--no-crawl", action="store_true", help="Skip the crawl cases.")
    args = ap.parse_args(argv)
    tmp = Path(args.data or tempfile.mkdtemp(prefix="newsagg-abuse-"))
    tmp.mkdir(parents=True, exist_ok=True)
    data = tmp / "api"
    data.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    if not (data / "newsagg.db").exists():
        build_data(data, args.articles)
    print(f"store: {args.articles} articles with raw HTML ({(data / 'newsagg.db').stat().st_size / 1e6:.0f} MB) "
          f"in {time.perf_counter() - t0:.0f} s", flush=True)
    old_mb, now_mb = row_bytes_per_listing(data)
    print(f"column data one /articles?tag=zzz&limit=100 loads: {now_mb:.2f} MB (the old full-row scan of "
          f"limit x 50 rows: {old_mb:.0f} MB)", flush=True)
    api = ApiProcess(data, cache_size=20_000)
    try:
        api.wait_ready(600)
        rss = PeakRss(api.proc.pid)
        start_mb = rss.now() / 2**20
        first = httpx.get(api.url + "articles?limit=1", timeout=30).json()["items"][0]
        known = (first["id"], quote(first["url"], safe=""))
        print(f"API ready, RSS {start_mb:.0f} MB")
        livez_mb = parallel_growth_mb(api, rss, "/livez")
        listing_mb = parallel_growth_mb(api, rss, "/articles?tag=zzz&limit=100")
        feed_mb = parallel_growth_mb(api, rss, "/feed.atom?tag=zzz&limit=100")
        print(f"RSS growth under 20 parallel requests: /livez {livez_mb:.1f} MB (baseline), "
              f"/articles?tag=zzz&limit=100 {listing_mb:.1f} MB, /feed.atom?tag=zzz&limit=100 {feed_mb:.1f} MB")
        results = run_http(api, rss, known)
        methods = metric_methods(api) if api.proc.poll() is None else set()
        print(f"/metrics method labels after the unknown methods: {sorted(methods)}")
        rss.stop()
    finally:
        api.stop()
    if not args.no_crawl:
        from abuse_crawl import run_crawls

        results += run_crawls(tmp)
    summary = {
        "cases": len(results), "crashes": sum(r["crash"] for r in results),
        "5xx": sum(1 for r in results if (r["status"] or 0) >= 500), "peak_rss_mb": round(rss.peak / 2**20, 1),
        "leaks": sum(r["note"].startswith("LEAK") for r in results),
        "start_rss_mb": round(start_mb, 1), "listing_growth_mb": round(listing_mb, 1),
        "feed_growth_mb": round(feed_mb, 1), "livez_growth_mb": round(livez_mb, 1),
        "listing_loads_mb": round(now_mb, 2), "old_listing_loads_mb": round(old_mb, 1),
        "metric_methods": sorted(methods),
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
