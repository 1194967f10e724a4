"""Fixtures of the scheduler and crash-safety tests: demo sites, and demo sites slow enough to kill mid-crawl."""

from __future__ import annotations

import pytest

from newsagg.demo import server as demo_server
from newsagg.demo.server import DemoSites


@pytest.fixture
def sites():
    with DemoSites() as s:
        yield s


@pytest.fixture
def slow_sites(monkeypatch):
    """The demo outlets with a Crawl-delay on every site, so a crawl lasts long enough to be killed mid-way."""
    robots = {outlet: text.replace("Crawl-delay: 0.2\n", "") for outlet, text in demo_server.ROBOTS.items()}
    robots = {outlet: text.replace("User-agent: *\n", "User-agent: *\nCrawl-delay: 0.12\n")
              for outlet, text in robots.items()}
    monkeypatch.setattr(demo_server, "ROBOTS", robots)
    with DemoSites() as s:
        yield s
