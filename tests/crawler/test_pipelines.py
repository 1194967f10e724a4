"""Item pipelines, one by one. CanonicalUrlPipeline: a rel=canonical on the same site (its registrable domain, by the public suffix list) is the
article's identity; one to another site marks a syndicated copy that keeps its own URL."""

from __future__ import annotations

import pytest
from scrapy.utils.test import get_crawler

from crawler.extract import ExtractedArticle
from crawler.items import ArticleItem
from crawler.pipelines import CanonicalUrlPipeline
from newsagg.config import Settings


def item(url: str, canonical: str) -> ArticleItem:
    extracted = ExtractedArticle(
        url=url, canonical_url=canonical, amp_url=None, title="t", authors=[], published=None, updated=None,
        language="en", lead_image=None, summary="", body="b", tags=[], site_name=None, paywalled=False,
        is_article=True, body_source="test")
    return ArticleItem(source="s", fetched_url=url, response_url=url, extracted=extracted, raw_html="")


@pytest.fixture
def pipeline(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'c.db'}")
    crawler = get_crawler(settings_dict={"NEWSAGG_SETTINGS": settings})
    yield CanonicalUrlPipeline.from_crawler(crawler)
    crawler._newsagg_store.close()


@pytest.mark.parametrize(("fetched", "canonical", "same_site"), [
    ("https://m.example.co.uk/a?utm_source=x", "https://www.example.co.uk/a", True),  # mobile → desktop host
    ("https://amp.example.com/a", "https://news.example.com/a", True),
    ("https://www.example.com/a", "https://www.other.com/a", False),
    ("https://www.example.co.uk/a", "https://www.other.co.uk/a", False),  # co.uk is a suffix, not a site
    ("https://alice.github.io/a", "https://bob.github.io/a", False),  # github.io: a (private) public suffix
    ("http://127.0.0.1:8801/a", "http://127.0.0.1:8802/a", False),  # the demo's outlets: one host, two ports
    ("http://127.0.0.1:8801/a", "http://127.0.0.1:8801/b", True),
])
def test_same_site_canonical_is_followed_another_site_marks_a_copy(pipeline, fetched, canonical, same_site):
    out = pipeline.process_item(item(fetched, canonical))
    if same_site:
        assert (out.url, out.syndicated_of) == (canonical, None)
    else:
        assert out.url == fetched and out.syndicated_of == canonical
