"""The store's tables (SQLAlchemy 2 declarative). Schema changes go through Alembic (newsagg/migrations)."""

from __future__ import annotations

import zlib
from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timestamps stored as UTC and always returned timezone-aware (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; attach a timezone first")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    homepage: Mapped[str] = mapped_column(String(2000), default="")
    language: Mapped[str | None] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(200), default="", doc="Registry file it came from.")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    articles: Mapped[list["Article"]] = relationship(back_populates="source")


class Article(Base):
    __tablename__ = "articles"
    # SQLite would otherwise reuse the id of a deleted newest article (migration 0004)
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True, doc="Canonical URL.")
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    language: Mapped[str | None] = mapped_column(String(16))
    lead_image: Mapped[str | None] = mapped_column(String(2000))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list, doc="What the article is about (crawler/topics.py).")
    entities: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default="[]", doc="Every company it mentions, most salient first."
    )
    relevance: Mapped[float] = mapped_column(Float, default=0.0)
    paywalled: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    near_dup_group: Mapped[int | None] = mapped_column(Integer, index=True, doc="Id of the group's first article.")
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary, doc="MinHash signature of the body (uint32s).")
    raw_html_z: Mapped[bytes | None] = mapped_column(LargeBinary, doc="zlib-compressed HTML as fetched.")

    source: Mapped[Source] = relationship(back_populates="articles", lazy="joined")

    @property
    def raw_html(self) -> str | None:
        return zlib.decompress(self.raw_html_z).decode("utf-8") if self.raw_html_z else None

    @raw_html.setter
    def raw_html(self, html: str | None) -> None:
        self.raw_html_z = zlib.compress(html.encode("utf-8"), 6) if html else None

    @property
    def source_name(self) -> str:
        return self.source.name if self.source else ""


class SeenUrl(Base):
    """Every article URL the crawler has dealt with, and how: the persisted seen-set of incremental crawls."""

    __tablename__ = "seen_urls"

    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    status: Mapped[str] = mapped_column(String(40), doc="stored | duplicate | near_duplicate | skipped/<reason>")
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FeedState(Base):
    """HTTP validators of feeds and sitemaps, for conditional re-fetches."""

    __tablename__ = "feed_states"

    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(
        String(20), default="running",
        doc="running | finished | failed:<reason> (spider closed early) | failed | killed (seen dying by the scheduler)",
    )
    group: Mapped[str] = mapped_column(String(100), default="")
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    stats: Mapped[dict] = mapped_column(JSON, default=dict, doc="Counts: pages, new, duplicate, …")
    skips: Mapped[dict] = mapped_column(JSON, default=dict, doc="Skipped pages by reason.")
    exit_code: Mapped[int | None] = mapped_column(
        Integer, doc="Exit status of the crawl process when a scheduler ran it (negative: killed by that signal)."
    )
    worker: Mapped[str] = mapped_column(String(200), default="", server_default="", doc="host:pid of the crawl.")


class SourceHealth(Base):
    """Per crawl run and source: how extraction went (crawler/health.py), to spot template changes over time."""

    __tablename__ = "source_health"

    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)
    pages: Mapped[int] = mapped_column(Integer, default=0, doc="Article pages extracted (stored or not).")
    stored: Mapped[int] = mapped_column(Integer, default=0)
    missing_body: Mapped[int] = mapped_column(Integer, default=0, doc="Pages whose body is under min_body_words.")
    missing_title: Mapped[int] = mapped_column(Integer, default=0)
    missing_date: Mapped[int] = mapped_column(Integer, default=0)
    missing_author: Mapped[int] = mapped_column(Integer, default=0)
    median_body_words: Mapped[int] = mapped_column(Integer, default=0)
    skips: Mapped[dict] = mapped_column(JSON, default=dict, doc="This source's skipped pages by reason.")


class Embedding(Base):
    """An article's vector for one model; text_hash lets a rebuild skip unchanged articles."""

    __tablename__ = "embeddings"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary, doc="float32 little-endian.")


Index("ix_articles_source_published", Article.source_id, Article.published_at)


class Story(Base):
    """Articles about one event, grouped by the recommender (recommender/stories.py); derived, rebuildable."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(Text, default="", doc="Title of the most central member.")
    label_article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    size: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleStory(Base):
    """Which story an article belongs to (at most one)."""

    __tablename__ = "article_stories"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)


class CrawlRetry(Base):
    """An article URL whose download failed for a reason that may pass (403, 5xx, timeouts, TLS, empty 200 …):
    not in the seen-set yet, retried by a later crawl once `next_try_at` has come (crawler/retries.py owns it)."""

    __tablename__ = "crawl_retries"

    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    source: Mapped[str] = mapped_column(String(100), default="", index=True)
    reason: Mapped[str] = mapped_column(String(40), doc="Skip reason of the last failure (http_403, timeout …).")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
class RelatedListRow(Base):
    """An article's materialized related list for one model (recommender/related_lists.py writes it).

    `entries` is little-endian packed (article id int64, score float32, direct float32), best first: the ranking
    as the index of `index_version` computed it. Readers drop entries no longer in their index.
    """

    __tablename__ = "related_lists"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    index_version: Mapped[int] = mapped_column(Integer)
    entries: Mapped[bytes] = mapped_column(LargeBinary)
