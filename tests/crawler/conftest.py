"""Crawler test helpers: run a real crawl (`newsagg crawl`) in a subprocess against local servers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from newsagg.demo import local_crawl_env


def run_crawl(registry: Path, database_url: str, *extra_args: str, env: dict | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess:
    """One crawl in its own process (Scrapy's reactor cannot restart), as a user would run it."""
    full_env = local_crawl_env(**{"NEWSAGG_DATABASE_URL": database_url, "NEWSAGG_CRAWL__RETRY_TIMES": "2",
                                  **(env or {})})
    proc = subprocess.run(
        [sys.executable, "-m", "newsagg.app.cli", "crawl", "--registry", str(registry), "--quiet", *extra_args],
        env=full_env, capture_output=True, text=True, timeout=timeout,
    )
    return proc


@pytest.fixture
def crawl():
    return run_crawl
