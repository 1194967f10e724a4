"""Source health: the figures per run and source, and the flag raised when a site changes its template.

The integration test crawls the demo sites twice with the real spider; between the crawls one outlet moves its
articles into a client-rendered app shell (newsagg/demo/templates.py: render_redesigned).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from crawler.health import flags_for_source, health_flags
from newsagg.config import HealthSettings
from newsagg.demo import local_crawl_env
from newsagg.demo.server import DemoSites
from newsagg.models import SourceHealth
from newsagg.store import Store


def row(run_id: int, pages: int = 20, body: int = 0, date: int = 0, author: int = 0, words: int = 400,
        source: str = "site") -> SourceHealth:
    return SourceHealth(run_id=run_id, source=source, pages=pages, stored=pages - body, missing_body=body,
                        missing_title=0, missing_date=date, missing_author=author, median_body_words=words, skips={})


def test_flags_compare_a_run_with_the_sources_own_history():
    cfg = HealthSettings()
    steady = [row(5, author=12), row(4, author=11), row(3, author=13)]  # a site that never prints authors
    assert flags_for_source(steady, cfg) == []
    dates_gone = [row(6, date=18, author=12), *steady]
    [flag] = flags_for_source(dates_gone, cfg)
    assert (flag.metric, flag.run_id, flag.value, flag.usual) == ("missing_date", 6, 0.9, 0.0)
    shorter = [row(6, words=150), *steady]
    assert [f.metric for f in flags_for_source(shorter, cfg)] == ["median_body_words"]
    assert flags_for_source([row(6, words=150, pages=3), *steady], cfg) == []  # too few pages to judge
    assert flags_for_source([row(6, date=18)], cfg) == []  # no history yet


def test_health_flags_group_rows_by_source_and_judge_the_latest_run():
    rows = [row(1, source="a"), row(2, source="a", body=20, words=0), row(1, source="b"), row(2, source="b")]
    flags = health_flags(rows, HealthSettings())
    assert {(f.source, f.metric) for f in flags} == {("a", "missing_body"), ("a", "median_body_words")}
    assert all(f.run_id == 2 for f in flags) and "template change" in flags[0].message


@pytest.mark.slow
def test_template_change_between_two_crawls_raises_the_flag(tmp_path, database_url):
    env = local_crawl_env(NEWSAGG_DATABASE_URL=database_url, NEWSAGG_CRAWL__RETRY_TIMES="1")
    with DemoSites() as sites:
        registry, _ = sites.write_files(tmp_path)
        for mode in ("feeds", "sitemaps"):  # the second crawl fetches the articles the feeds did not list
            crawl = subprocess.run([sys.executable, "-m", "newsagg.app.cli", "crawl", "--registry", str(registry),
                                    "--quiet", "--discover", mode], env=env, capture_output=True, text=True,
                                   timeout=300)
            assert crawl.returncode == 0, crawl.stdout[-2000:] + crawl.stderr[-2000:]
            sites.redesigned.add("voltwire")
    runs = subprocess.run([sys.executable, "-m", "newsagg.app.cli", "runs"], env={**env, "COLUMNS": "200"},
                          capture_output=True, text=True, timeout=120)
    assert runs.returncode == 0, runs.stderr
    flagged = {line.split(":")[1].strip() for line in runs.stdout.splitlines() if line.startswith("health:")}
    assert flagged == {"voltwire"}, runs.stdout
    assert "of pages without body, usually 0%" in runs.stdout
    store = Store(database_url)
    try:
        latest = {r.source: r for r in store.source_health(runs=1)}
    finally:
        store.close()
    assert latest["voltwire"].pages > 5 and latest["voltwire"].stored == 0
    assert latest["voltwire"].missing_body == latest["voltwire"].pages
    assert latest["voltwire"].skips.get("not_article", 0) + latest["voltwire"].skips.get("no_body", 0) > 5
    assert latest["autopulse"].stored > 5 and latest["autopulse"].median_body_words > 150
