"""Extraction quality gate (in the spirit of trafilatura's eval gate).

Scores ``crawler.extract.extract_body`` on the shared development pages of the
article-extraction benchmark and fails when quality drops below a pinned floor
or below plain trafilatura measured in the same run. The full report is
``python benchmarks/extraction.py --html ... --truth ...``.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "extraction"
BENCHMARK_FILE = REPO_ROOT / "benchmarks" / "extraction.py"

# Reached on the 102 dev pages: F1 0.9844 (P 0.9823, R 0.9866); trafilatura 0.9496.
F1_FLOOR = 0.979
PRECISION_FLOOR = 0.975
RECALL_FLOOR = 0.980
# Time of ours over trafilatura's own on the same pages, page by page in the same run (so machine load cancels
# out): measured 0.87-0.88 on the 102 dev pages. A slowdown of ours by 2.3x or more fails.
MAX_TIME_RATIO = 2.0


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("newsagg_extraction_benchmark", BENCHMARK_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _load_benchmark()


@pytest.fixture(scope="module")
def results(bench):
    html_dir, truth = DATA_DIR / "html", DATA_DIR / "ground-truth.json"
    if not (html_dir.is_dir() and truth.is_file()):
        pytest.skip(f"extraction dev set not found at {DATA_DIR} (shared evaluation data is not part of the repo)")
    pages = bench.load_pages(html_dir, truth)
    if not pages:
        pytest.skip(f"no pages in {html_dir}")
    start = time.perf_counter()
    out = bench.run_benchmark(pages)
    return out, time.perf_counter() - start


def test_scorer_matches_reference_definition(bench) -> None:
    # identical texts; disjoint texts; empty prediction; partial overlap (multiset counts)
    assert bench.match_counts("a b c d e", "a b c d e") == (2, 0, 0)
    assert bench.match_counts("a b c d", "w x y z") == (0, 1, 1)
    tp, fp, fn = bench.match_counts("a b c d e", "")
    assert (tp, fp) == (0, 1) and fn == 2
    assert bench.match_counts("a b c d a b c d", "a b c d") == (1, 0, 4)
    scores = bench.aggregate([(2, 0, 0), (0, 1, 1)])
    assert scores.precision == pytest.approx(0.5) and scores.recall == pytest.approx(0.5)
    assert scores.f1 == pytest.approx(0.5)


@pytest.mark.slow  # the `results` fixture extracts the whole benchmark corpus
def test_extraction_quality_gate(bench, results) -> None:
    out, seconds = results
    ours = bench.aggregate(r.ours for r in out)
    base = bench.aggregate(r.baseline for r in out)
    summary = (
        f"{len(out)} pages: ours F1 {ours.f1:.4f} P {ours.precision:.4f} R {ours.recall:.4f}; "
        f"trafilatura F1 {base.f1:.4f}"
    )
    print(summary)
    assert ours.f1 >= base.f1, summary
    assert ours.f1 >= F1_FLOOR, summary
    assert ours.precision >= PRECISION_FLOOR, summary
    assert ours.recall >= RECALL_FLOOR, summary


@pytest.mark.slow  # the `results` fixture extracts the whole benchmark corpus
def test_extraction_is_not_slower_than_trafilatura_by_much(results) -> None:
    out, _ = results
    ours, base = sum(r.ours_seconds for r in out), sum(r.baseline_seconds for r in out)
    summary = f"ours {1000 * ours / len(out):.1f} ms/page, trafilatura {1000 * base / len(out):.1f} ms/page"
    print(summary)
    assert ours <= MAX_TIME_RATIO * base, summary
