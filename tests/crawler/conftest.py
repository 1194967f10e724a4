"""Crawler test helpers: run a real crawl (`newsagg crawl`) in a subprocess against local servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_crawl(registry: Path, database_url: str, *extra_args: str, env: dict | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess:
    """One crawl in its own process (Scrapy's reactor cannot restart), as a user would run it."""
    full_env = {
        **os.environ,
        "NEWSAGG_DATABASE_URL": database_url,
        "NEWSAGG_CRAWL__ALLOW_PRIVATE_HOSTS": "true",
        "NEWSAGG_CRAWL__MAX_AGE_DAYS": "0",
        "NEWSAGG_CRAWL__DOWNLOAD_DELAY": "0",
        "NEWSAGG_CRAWL__RETRY_TIMES": "2",
        "NEWSAGG_CONFIG": "/nonexistent/newsagg.toml",
        **(env or {}),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "newsagg.cli", "crawl", "--registry", str(registry), "--quiet", *extra_args],
        env=full_env, capture_output=True, text=True, timeout=timeout,
    )
    return proc


@pytest.fixture
def crawl():
    return run_crawl
