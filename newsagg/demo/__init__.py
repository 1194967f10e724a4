"""The bundled demo news sites (content, templates, server) and how to crawl local sites."""

from __future__ import annotations

import os


def local_crawl_env(**overrides: str) -> dict[str, str]:
    """Environment of a `newsagg` child process crawling sites on this machine (the demo, tests, benchmarks):
    loopback addresses allowed, no age limit, no delay, no user config file; `overrides` win."""
    return {
        **os.environ,
        "NEWSAGG_CRAWL__ALLOW_PRIVATE_HOSTS": "true",
        "NEWSAGG_CRAWL__MAX_AGE_DAYS": "0",
        "NEWSAGG_CRAWL__DOWNLOAD_DELAY": "0",
        "NEWSAGG_CONFIG": "/nonexistent/newsagg.toml",
        **overrides,
    }
