"""Values longer than the store's columns (url, lead_image: String(2000)) never reach it: an over-long article URL
is a counted skip, an over-long lead image is dropped and counted; the crawl (PostgreSQL too) goes on."""

from __future__ import annotations

import pytest
from tests.crawler.test_hostile import Publisher, article

from newsagg.store import Store

LONG_PATH = "/" + "very-long-slug-" * 140  # > 2000 characters once the host is added
LONG_IMAGE = "http://img.example/" + "i" * 2005 + ".jpg"  # 2028: passes extraction (2048), not the column


class LongValues(Publisher):
    def routes(self) -> dict:
        with_image = article("EV charging story with a giant lead image").replace(
            b"<meta property=\"og:title\"",
            f'<meta property="og:image" content="{LONG_IMAGE}"><meta property="og:title"'.encode(), 1)
        return {LONG_PATH: (200, {}, article("EV battery story at a giant URL")),
                "/giant-image": (200, {}, with_image),
                "/redirect-to-giant": (302, {"Location": LONG_PATH}, b""),
                "/good-1": (200, {}, article("Good EV battery story one"))}


@pytest.fixture
def site():
    s = LongValues(feed_paths=[LONG_PATH, "/giant-image", "/redirect-to-giant", "/good-1"])
    yield s
    s.close()


@pytest.mark.slow
def test_over_long_urls_and_lead_images_are_skipped_and_counted(site, tmp_path, crawl, database_url):
    proc = crawl(site.registry(tmp_path), database_url)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    store = Store(database_url)
    try:
        articles = {a.title: a for a in store.iter_articles()}
        assert set(articles) == {"EV charging story with a giant lead image", "Good EV battery story one"}
        assert articles["EV charging story with a giant lead image"].lead_image is None
        run = store.runs()[0]
        assert run.status == "finished"
        assert run.skips.get("url_too_long") == 2  # discovered at a giant URL, and redirected to one
        assert run.stats.get("lead_images_dropped") == 1
        assert "DataError" not in proc.stdout + proc.stderr
    finally:
        store.close()
