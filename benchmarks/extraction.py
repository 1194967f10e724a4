"""Article-body extraction benchmark: our ``extract_body`` vs plain ``trafilatura.extract``.

Scoring follows the public article-extraction benchmark (Zyte/Scrapinghub):
texts are tokenised with ``\\w+`` (no lower-casing), turned into multisets of
token 4-grams; per page TP/FP/FN are the multiset overlap, surplus and shortfall;
precision and recall are averaged over pages and F1 is their harmonic mean.

    python benchmarks/extraction.py --html DIR --truth FILE.json [--limit N] [--disable STAGES] [--previous REF]

--previous REF also times the full extraction (``extract_article``, what a crawl pays per page) of the code at
git REF (e.g. 1da048f, before issue 14) against this checkout's, alternating passes in the same run (median of
--passes). The last line printed is one JSON object with the totals (for scripts and CI).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

TOKEN_RE = re.compile(r"\w+")
NGRAM = 4


# ----------------------------------------------------------------------------- scoring


def shingles(text: str, n: int = NGRAM) -> Counter:
    """Multiset of token n-grams; like the reference, a text shorter than n gives one short shingle."""
    tokens = TOKEN_RE.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))


def match_counts(true: str, pred: str) -> tuple[int, int, int]:
    """(TP, FP, FN) of the shingle multisets of the reference and the prediction."""
    t, p = shingles(true), shingles(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    return tp, fp, fn


def precision_score(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def recall_score(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return 0.0
    return tp / (tp + fn)


@dataclass
class Scores:
    pages: int
    precision: float
    recall: float
    f1: float


def aggregate(counts: Iterable[tuple[int, int, int]]) -> Scores:
    """Page-averaged precision and recall, F1 of the two averages (as the reference does)."""
    counts = list(counts)
    if not counts:
        return Scores(0, 0.0, 0.0, 0.0)
    ps = [precision_score(*c) for c in counts if c[0] + c[1] > 0]
    rs = [recall_score(*c) for c in counts if c[0] + c[2] > 0]
    p = statistics.mean(ps) if ps else 0.0
    r = statistics.mean(rs) if rs else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return Scores(len(counts), p, r, f1)


# ----------------------------------------------------------------------------- data


def load_pages(html_dir: Path, truth_file: Path, limit: int | None = None) -> list[tuple[str, str, str, str]]:
    """[(page id, url, html, reference body)], sorted by id."""
    truth = json.loads(Path(truth_file).read_text(encoding="utf-8"))
    out = []
    for page_id in sorted(truth):
        path = Path(html_dir) / f"{page_id}.html.gz"
        if not path.exists():
            path = Path(html_dir) / f"{page_id}.html"
            if not path.exists():
                continue
            html = path.read_text(encoding="utf-8", errors="replace")
        else:
            with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
                html = fh.read()
        entry = truth[page_id]
        out.append((page_id, entry.get("url") or "", html, entry.get("articleBody") or ""))
        if limit and len(out) >= limit:
            break
    return out


# ----------------------------------------------------------------------------- runner


@dataclass
class PageResult:
    page_id: str
    ours: tuple[int, int, int]
    baseline: tuple[int, int, int]
    ours_seconds: float
    baseline_seconds: float


def _ensure_repo_on_path() -> None:
    repo = Path(__file__).resolve().parent.parent
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))


def run_benchmark(
    pages: list[tuple[str, str, str, str]],
    ours: Callable[[str, str], str] | None = None,
    baseline: Callable[[str], str] | None = None,
) -> list[PageResult]:
    """Run both extractors on every page; extraction errors count as an empty text."""
    if ours is None:
        _ensure_repo_on_path()
        from crawler.extract import extract_body

        ours = extract_body
    if baseline is None:
        import trafilatura

        def baseline(html: str) -> str:
            return trafilatura.extract(html) or ""

    results = []
    for page_id, url, html, truth in pages:
        t0 = time.perf_counter()
        try:
            ours_text = ours(html, url) or ""
        except Exception:  # noqa: BLE001 - a crash is scored as an empty extraction
            ours_text = ""
        t1 = time.perf_counter()
        try:
            base_text = baseline(html) or ""
        except Exception:  # noqa: BLE001
            base_text = ""
        t2 = time.perf_counter()
        results.append(
            PageResult(page_id, match_counts(truth, ours_text), match_counts(truth, base_text), t1 - t0, t2 - t1)
        )
    return results


# The same timing loop runs here (this checkout) and in a child process on the code of --previous REF.
TIMING_WORKER = """
import json, sys, time
sys.path.insert(0, "benchmarks")
from extraction import aggregate, load_pages, match_counts
from crawler.extract import extract_article
pages = load_pages(sys.argv[1], sys.argv[2], int(sys.argv[3]) or None)
for line in sys.stdin:
    t0, texts = time.perf_counter(), [extract_article(html, url).body for _, url, html, _ in pages]
    seconds = time.perf_counter() - t0
    f1 = aggregate(match_counts(p[3], t) for p, t in zip(pages, texts)).f1
    print(json.dumps({"seconds": seconds, "f1": f1}), flush=True)
"""


def _checkout(ref: str, into: Path) -> Path:
    """crawler/ and benchmarks/ of git `ref`, unpacked into a temporary directory (no worktree needed)."""
    repo = Path(__file__).resolve().parent.parent
    archive = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", ref, "crawler", "benchmarks"],
                             check=True, capture_output=True).stdout
    tar_path = into / "previous.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into / "previous", filter="data")
    return into / "previous"


def compare_speed(args: argparse.Namespace) -> dict:
    """Median seconds per page of this checkout and of --previous, alternating passes; F1 of each."""
    with tempfile.TemporaryDirectory(prefix="extract-prev-") as tmp:
        root = _checkout(args.previous, Path(tmp))
        child_args = [str(args.html.resolve()), str(args.truth.resolve()), str(args.limit or 0)]
        here = str(Path(__file__).resolve().parent.parent)
        workers = {
            "ours": subprocess.Popen([sys.executable, "-c", TIMING_WORKER, *child_args], cwd=here,
                                     env=_env_with_path(here), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True),
            "previous": subprocess.Popen([sys.executable, "-c", TIMING_WORKER, *child_args], cwd=root,
                                         env=_env_with_path(str(root)), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         text=True),
        }
        runs: dict[str, list[dict]] = {name: [] for name in workers}
        try:
            for _ in range(args.passes + 1):  # the first pass warms caches and imports: not counted
                for name, proc in workers.items():
                    proc.stdin.write("pass\n")
                    proc.stdin.flush()
                    runs[name].append(json.loads(proc.stdout.readline()))
        finally:
            for proc in workers.values():
                proc.stdin.close()
                proc.wait()
    pages = len(load_pages(args.html, args.truth, args.limit))
    out = {}
    for name, passes in runs.items():
        out[f"{name}_ms_per_page"] = 1000 * statistics.median(p["seconds"] for p in passes[1:]) / pages
        out[f"{name}_f1"] = passes[-1]["f1"]
    out["speedup"] = out["previous_ms_per_page"] / out["ours_ms_per_page"]
    return out


def _env_with_path(root: str) -> dict:
    import os

    return {**os.environ, "PYTHONPATH": root}


def _print_table(results: list[PageResult]) -> None:
    rows = []
    for r in results:
        p, rc = precision_score(*r.ours), recall_score(*r.ours)
        f = 2 * p * rc / (p + rc) if p + rc else 0.0
        bp, br = precision_score(*r.baseline), recall_score(*r.baseline)
        bf = 2 * bp * br / (bp + br) if bp + br else 0.0
        rows.append((r.page_id[:16], f"{p:.3f}", f"{rc:.3f}", f"{f:.3f}", f"{bf:.3f}", f"{f - bf:+.3f}"))
    headers = ("page", "P", "R", "F1", "baseline F1", "Δ")
    try:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="Per-page extraction scores")
        for h in headers:
            table.add_column(h, justify="left" if h == "page" else "right")
        for row in rows:
            table.add_row(*row)
        Console().print(table)
    except ImportError:
        print("  ".join(f"{h:>11}" for h in headers))
        for row in rows:
            print("  ".join(f"{c:>11}" for c in row))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", required=True, type=Path, help="directory of <id>.html.gz pages")
    ap.add_argument("--truth", required=True, type=Path, help="ground-truth JSON {id: {articleBody, url}}")
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages (sorted by id)")
    ap.add_argument("--quiet", action="store_true", help="no per-page table")
    ap.add_argument("--previous", default=None, metavar="REF", help="also time the extraction of git REF (same run)")
    ap.add_argument("--passes", type=int, default=3, help="timed passes per side with --previous (median)")
    ap.add_argument(
        "--disable",
        default="",
        help="comma-separated extraction stages to switch off (ablation), see crawler.extract.DEFAULT_FLAGS",
    )
    args = ap.parse_args(argv)
    if args.disable:
        _ensure_repo_on_path()
        from crawler import extract

        unknown = [f for f in args.disable.split(",") if f and f not in extract.DEFAULT_FLAGS]
        if unknown:
            ap.error(f"unknown stage(s): {', '.join(unknown)}; known: {', '.join(extract.DEFAULT_FLAGS)}")
        extract.DEFAULT_FLAGS.update({f: False for f in args.disable.split(",") if f})

    pages = load_pages(args.html, args.truth, args.limit)
    if not pages:
        print("no pages found", file=sys.stderr)
        return 2
    results = run_benchmark(pages)
    if not args.quiet:
        _print_table(results)
    ours = aggregate(r.ours for r in results)
    base = aggregate(r.baseline for r in results)
    n = len(results)
    ours_ms = 1000 * sum(r.ours_seconds for r in results) / n
    base_ms = 1000 * sum(r.baseline_seconds for r in results) / n
    print(f"pages: {n}")
    print(f"ours      F1 {ours.f1:.4f}  P {ours.precision:.4f}  R {ours.recall:.4f}  {ours_ms:.1f} ms/page")
    print(f"baseline  F1 {base.f1:.4f}  P {base.precision:.4f}  R {base.recall:.4f}  {base_ms:.1f} ms/page")
    summary = {"pages": n, "f1": round(ours.f1, 4), "precision": round(ours.precision, 4),
               "recall": round(ours.recall, 4), "baseline_f1": round(base.f1, 4)}
    if args.previous:
        speed = compare_speed(args)
        print(f"extract_article, median of {args.passes} alternating passes (same run):")
        print(f"  this checkout   {speed['ours_ms_per_page']:.1f} ms/page  F1 {speed['ours_f1']:.4f}")
        print(f"  {args.previous:<15} {speed['previous_ms_per_page']:.1f} ms/page  F1 {speed['previous_f1']:.4f}")
        print(f"  speed-up {speed['speedup']:.2f}x")
        summary.update({k: round(v, 4) for k, v in speed.items()}, previous=args.previous)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
