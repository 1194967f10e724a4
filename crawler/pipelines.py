"""Item pipelines, one concern each, in ITEM_PIPELINES order:

validate → canonical URL → exact duplicate → near-duplicate → tech/auto relevance → store.

A pipeline that rejects an item records the reason (stats `newsagg/skipped/<reason>` + the seen-set) and raises
DropItem; syndicated copies are never dropped: they are stored and joined to their original's group.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import tldextract
from scrapy.exceptions import DropItem

from crawler.dedupe import NearDuplicateIndex, content_hash, minhash_of, signature_bytes, signature_from_bytes
from crawler.items import ArticleItem
from crawler.relevance import default_scorer
from crawler.runtime import get_store, newsagg_settings, record_skip
from crawler.topics import default_tagger
from newsagg.models import Article
from newsagg.store import DuplicateArticle
from newsagg.text import strip_control
from newsagg.urls import canonical_url, is_http_url

MAX_TITLE = 500
MAX_URL = Article.__table__.c.url.type.length  # longer URLs would not fit the store (PostgreSQL: DataError)
MAX_BODY = 200_000
PAYWALL_MIN_WORDS = 20


class _Pipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.crawl = newsagg_settings(crawler).crawl
        self.store = get_store(crawler)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def drop(self, item: ArticleItem, reason: str, detail: str = "") -> DropItem:
        record_skip(self.crawler, reason, item.fetched_url, detail, source=item.source)
        if item.url and item.url != item.fetched_url:
            self.store.mark_seen(item.url, f"skipped/{reason}")
        return DropItem(f"{reason}: {item.fetched_url}")


def clean_text(text: str, limit: int) -> str:
    text = unicodedata.normalize("NFC", strip_control(text or ""))
    return text.strip()[:limit]


class ValidatePipeline(_Pipeline):
    """Refuse what is not an article, clean what is: control characters, sizes, impossible dates."""

    def process_item(self, item: ArticleItem):
        ex = item.extracted
        ex.title = clean_text(ex.title, MAX_TITLE)
        ex.body = clean_text(ex.body, MAX_BODY)
        ex.summary = clean_text(ex.summary, 2000)
        ex.authors = [clean_text(a, 200) for a in ex.authors if clean_text(a, 200)][:20]
        if not ex.is_article:
            raise self.drop(item, "not_article")
        if not ex.title:
            raise self.drop(item, "no_title")
        words = len(ex.body.split())
        min_words = PAYWALL_MIN_WORDS if ex.paywalled else self.crawl.min_body_words
        if words < min_words:
            raise self.drop(item, "no_body", f"{words} words")
        latest = datetime.now(timezone.utc) + timedelta(days=1)
        if ex.published and ex.published > latest:
            ex.published = None
        if ex.updated and (ex.updated > latest or (ex.published and ex.updated < ex.published)):
            ex.updated = None
        if ex.lead_image and not is_http_url(ex.lead_image):
            ex.lead_image = None
        if ex.lead_image and len(ex.lead_image) > MAX_URL:
            ex.lead_image = None  # the article is fine without its picture
            self.crawler.stats.inc_value("newsagg/fields_dropped/lead_image_too_long")
        return item


class CanonicalUrlPipeline(_Pipeline):
    """The article's identity: its canonical URL (same-site rel=canonical followed, tracking stripped).

    A rel=canonical to another site marks a syndicated copy: it keeps its own URL and remembers the original.
    """

    def process_item(self, item: ArticleItem):
        own = canonical_url(item.response_url)
        declared = item.extracted.canonical_url
        if max(len(own), len(item.fetched_url)) > MAX_URL:  # e.g. redirected to a giant URL; cannot be stored
            record_skip(self.crawler, "url_too_long", None, item.fetched_url[:200])
            raise DropItem(f"url_too_long: {item.fetched_url[:200]}")
        item.url = own
        if declared and len(declared) > MAX_URL:
            declared = None  # an unusable rel=canonical: the page keeps its own URL
        if declared and is_http_url(declared):
            declared = canonical_url(declared)
            if _site(declared) == _site(own):
                item.url = declared
            else:
                item.syndicated_of = declared
        if item.url != own or item.url != item.fetched_url:
            known = self.store.article_by_url(item.url)
            if known is not None:
                self.store.mark_seen(item.fetched_url, "duplicate", known.id)
                self.crawler.stats.inc_value("newsagg/articles/duplicate")
                raise DropItem(f"duplicate of {item.url}")
        return item


# The public suffix list as shipped with tldextract (no download); its private part too, so foo.github.io and
# bar.github.io are two sites.
_SUFFIXES = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def _site(url: str) -> str:
    """The site a URL belongs to: its registrable domain (m.site.com and www.site.com are one site) and port; hosts
    under no public suffix (IP addresses, .test, localhost) are their own site, a www. ignored."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    site = _SUFFIXES.extract_str(host).top_domain_under_public_suffix or host.removeprefix("www.")
    return f"{site}:{parts.port}" if parts.port else site


class ExactDuplicatePipeline(_Pipeline):
    """Same words as a stored article: the same page twice on one site is dropped; on another site it's a copy."""

    def process_item(self, item: ArticleItem):
        item.content_hash = content_hash(item.extracted.title + "\n" + item.extracted.body)
        same = self.store.article_by_hash(item.content_hash)
        if same is None:
            return item
        if same.source_name == item.source:
            self.store.mark_seen(item.fetched_url, "duplicate", same.id)
            self.crawler.stats.inc_value("newsagg/articles/duplicate")
            raise DropItem(f"duplicate content of article {same.id}")
        item.near_dup_group = same.near_dup_group
        return item


def near_duplicate_index(crawler) -> NearDuplicateIndex:
    """One index per crawl, seeded from every signature in the store (shared by two pipelines)."""
    index = getattr(crawler, "_newsagg_near_dup", None)
    if index is None:
        index = NearDuplicateIndex(newsagg_settings(crawler).crawl.near_duplicate_threshold)
        for article_id, group, raw in get_store(crawler).minhashes():
            index.add(article_id, group or article_id, signature_from_bytes(raw))
        crawler._newsagg_near_dup = index
    return index


class NearDuplicatePipeline(_Pipeline):
    """MinHash-LSH over bodies, seeded from every stored signature, so copies join their original's group."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.index = near_duplicate_index(crawler)

    def process_item(self, item: ArticleItem):
        signature = minhash_of(item.extracted.body)
        item.minhash = signature_bytes(signature)
        if item.near_dup_group is None and item.syndicated_of:
            original = self.store.article_by_url(item.syndicated_of)
            if original is not None:
                item.near_dup_group = original.near_dup_group
        if item.near_dup_group is None:
            match = self.index.match(signature)
            if match is not None:
                item.near_dup_group = match[0]
        if item.near_dup_group is not None:
            self.crawler.stats.inc_value("newsagg/articles/near_duplicate")
        item.signature = signature  # StorePipeline indexes it once the article has an id
        return item


class RelevancePipeline(_Pipeline):
    """Tech & auto relevance score; tags of what the article is about and the companies it mentions
    (crawler/topics.py); off-topic articles are dropped and counted."""

    def process_item(self, item: ArticleItem):
        ex = item.extracted
        relevance = default_scorer().score(ex.title, ex.body)
        topics = default_tagger().topics(ex.title, ex.summary, ex.body)
        item.relevance = relevance.score
        keywords = [k.strip().lower() for k in ex.tags if k.strip()]  # the publisher's own tags
        item.tags = list(dict.fromkeys(topics.tags + keywords))[:25]
        item.entities = topics.entities[:25]
        if relevance.score < self.crawl.min_relevance:
            raise self.drop(item, "off_topic", f"score {relevance.score}")
        return item


class StorePipeline(_Pipeline):
    """Write the article and its seen URLs in one transaction."""

    def process_item(self, item: ArticleItem):
        ex = item.extracted
        article = Article(
            url=item.url, source_id=self.store.ensure_source(item.source), title=ex.title, authors=ex.authors,
            published_at=ex.published, updated_at=ex.updated, language=ex.language, lead_image=ex.lead_image,
            summary=ex.summary, body=ex.body, tags=item.tags, entities=item.entities, relevance=item.relevance,
            paywalled=ex.paywalled, content_hash=item.content_hash, near_dup_group=item.near_dup_group,
            minhash=item.minhash,
        )
        article.raw_html = item.raw_html
        try:
            item.article_id = self.store.add_article(article, fetched_url=item.fetched_url)
        except DuplicateArticle:
            self.crawler.stats.inc_value("newsagg/articles/duplicate")
            raise DropItem(f"already stored: {item.url}")
        self.crawler.stats.inc_value("newsagg/articles/new")
        if item.signature is not None:
            near_duplicate_index(self.crawler).add(
                item.article_id, article.near_dup_group or item.article_id, item.signature
            )
        return item
