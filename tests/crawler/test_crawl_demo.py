"""Integration: the real spider crawls the demo sites (SQLite and PostgreSQL) and the store matches the truth."""

from __future__ import annotations

from datetime import datetime

import pytest

from crawler.lexicon import load_lexicon
from newsagg.demo.server import DemoSites
from newsagg.store import Store

KINDS = load_lexicon().kinds  # tag -> company | theme


@pytest.fixture
def sites():
    with DemoSites() as s:
        yield s


@pytest.mark.slow
def test_demo_crawl_matches_ground_truth_and_recrawl_is_incremental(sites, database_url, tmp_path, crawl):
    registry, _ = sites.write_files(tmp_path)
    first = crawl(registry, database_url)
    assert first.returncode == 0, first.stdout + first.stderr
    store = Store(database_url)
    truth = sites.ground_truth()
    stored = {a.url: a for a in store.iter_articles()}

    for entry in truth:
        expect, url = entry["expect"], entry["url"]
        if expect in ("stored", "paywalled", "syndicated"):
            assert url in stored, f"missing {expect} article {url}"
            article = stored[url]
            assert article.title == entry["title"], url
            assert article.published_at == datetime.fromisoformat(entry["published"]), url
            assert article.authors == entry["authors"], url
            assert article.paywalled == entry["paywalled"], url
            assert article.relevance >= 0.35 and article.tags, url
            # tags are what it is about; every company tag is among the companies it mentions (its entities)
            assert {t for t in article.tags if KINDS.get(t) == "company"} <= set(article.entities), url
            if entry["event_id"] == "tesla-cheaper-model-y-standard":  # the example: not #cruise, #byd …
                assert [t for t in article.tags if KINDS.get(t) == "company"] == ["tesla"], article.tags
        else:
            assert url not in stored, f"{expect} page stored: {url}"
        if expect == "syndicated":
            original = stored[entry["original_url"]]
            assert stored[url].near_dup_group == original.near_dup_group, url
    wanted = sum(e["expect"] in ("stored", "paywalled", "syndicated") for e in truth)
    assert len(stored) == wanted  # nothing else (no AMP twin, no tracking-parameter twin, no off-topic)
    groups = [a.near_dup_group for a in stored.values()]
    assert len(set(groups)) == wanted - sum(e["expect"] == "syndicated" for e in truth)

    run = store.runs()[0]
    assert run.status == "finished" and run.stats["new"] == wanted
    assert run.skips.get("off_topic") == sum(e["expect"] == "skipped/off_topic" for e in truth)
    assert run.skips.get("http_404") == 2
    assert not any("/private/" in r.path for r in sites.requests)  # robots.txt Disallow obeyed

    fetched_before = len(sites.article_requests())
    second = crawl(registry, database_url)
    assert second.returncode == 0, second.stdout + second.stderr
    run2 = store.runs()[0]
    assert run2.id != run.id and run2.status == "finished"
    assert run2.stats["new"] == 0 and run2.stats["pages"] == 0
    assert len(sites.article_requests()) == fetched_before  # no article page downloaded again
    assert run2.stats["not_modified"] >= 4  # feeds and sitemaps revalidated with ETag
    assert store.count_articles() == wanted
    store.close()
