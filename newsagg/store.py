"""The article store: the source of truth (SQLAlchemy 2; SQLite by default, PostgreSQL by URL).

Everything else (FAISS index, stories) is derived from it and can be rebuilt from it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, event, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from newsagg.config import Settings, get_settings
from newsagg.models import Article, CrawlRun, FeedState, SeenUrl, Source, utcnow

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class DuplicateArticle(Exception):
    """An article with this canonical URL is already stored."""


@dataclass(frozen=True)
class ArticleFilter:
    """What `Store.list_articles` selects; cursor pagination by (published_at, id) via `before_id`."""

    source: str | None = None
    tag: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None  # substring of title or body (LIKE, wildcards escaped): a scan, used when `ids` is not given
    ids: Sequence[int] | None = None  # only these articles (the keyword matches of the word index, when it is up)
    before_id: int | None = None
    limit: int = 50


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL: readers (API, dashboard) never block the crawler's writes, and a crash never corrupts the file.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Store:
    """Typed access to sources, articles, the seen-URL set, feed validators and crawl runs."""

    def __init__(self, url: str, *, auto_migrate: bool = True):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._source_ids: dict[str, int] = {}
        if auto_migrate:
            migrate(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> "Store":
        settings = settings or get_settings()
        return cls(settings.database_url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any error (no half-written article)."""
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()

    # ---- sources -------------------------------------------------------------------------------------
    def ensure_source(self, name: str, homepage: str = "", language: str | None = None, origin: str = "") -> int:
        if name in self._source_ids:
            return self._source_ids[name]
        for attempt in range(2):
            try:
                with self.session() as s:
                    source = s.scalar(select(Source).where(Source.name == name))
                    if source is None:
                        source = Source(name=name, homepage=homepage, language=language, origin=origin)
                        s.add(source)
                        s.flush()
                    self._source_ids[name] = source.id
                break
            except IntegrityError:
                if attempt:  # another crawl process inserted it between our select and insert: read theirs
                    raise
        return self._source_ids[name]

    def sources(self) -> list[tuple[Source, int, datetime | None]]:
        """Each source with its article count and newest fetch time."""
        with self.session() as s:
            rows = s.execute(
                select(Source, func.count(Article.id), func.max(Article.fetched_at))
                .outerjoin(Article, Article.source_id == Source.id)
                .group_by(Source.id)
                .order_by(Source.name)
            ).all()
        return [(src, n, last) for src, n, last in rows]

    # ---- articles ------------------------------------------------------------------------------------
    def add_article(self, article: Article, *, fetched_url: str | None = None) -> int:
        """Insert an article and mark its URLs seen, atomically. Raises DuplicateArticle on a known URL."""
        try:
            with self.session() as s:
                s.add(article)
                s.flush()
                if article.near_dup_group is None:
                    article.near_dup_group = article.id
                for url in {article.url, fetched_url} - {None}:
                    s.merge(SeenUrl(url=url, status="stored", article_id=article.id, seen_at=utcnow()))
        except IntegrityError as exc:
            raise DuplicateArticle(article.url) from exc
        return article.id

    def get_article(self, article_id: int) -> Article | None:
        with self.session() as s:
            return s.get(Article, article_id)

    def article_by_url(self, url: str) -> Article | None:
        with self.session() as s:
            return s.scalar(select(Article).where(Article.url == url))

    def articles_by_ids(self, ids: Sequence[int]) -> dict[int, Article]:
        if not ids:
            return {}
        with self.session() as s:
            return {a.id: a for a in s.scalars(select(Article).where(Article.id.in_(list(ids))))}

    def article_by_hash(self, content_hash: str) -> Article | None:
        with self.session() as s:
            return s.scalar(select(Article).where(Article.content_hash == content_hash).limit(1))

    def group_members(self, group_id: int) -> list[Article]:
        with self.session() as s:
            return list(s.scalars(select(Article).where(Article.near_dup_group == group_id).order_by(Article.id)))

    def count_articles(self) -> int:
        with self.session() as s:
            return s.scalar(select(func.count(Article.id))) or 0

    def iter_articles(self, after_id: int = 0, batch: int = 500) -> Iterator[Article]:
        """All articles by ascending id, in batches (constant memory)."""
        while True:
            with self.session() as s:
                rows = list(
                    s.scalars(select(Article).where(Article.id > after_id).order_by(Article.id).limit(batch))
                )
            if not rows:
                return
            yield from rows
            after_id = rows[-1].id

    def minhashes(self) -> Iterator[tuple[int, int, bytes]]:
        """(article id, near-dup group, signature) for every article that has one."""
        with self.session() as s:
            yield from s.execute(
                select(Article.id, Article.near_dup_group, Article.minhash).where(Article.minhash.is_not(None))
            ).tuples()

    def list_articles(self, flt: ArticleFilter) -> list[Article]:
        """Newest first (by id, which follows fetch order), filtered."""
        stmt = select(Article).order_by(Article.published_at.desc().nulls_last(), Article.id.desc())
        if flt.source:
            stmt = stmt.join(Source).where(Source.name == flt.source)
        if flt.since:
            stmt = stmt.where(Article.published_at >= flt.since)
        if flt.until:
            stmt = stmt.where(Article.published_at < flt.until)
        if flt.ids is not None:
            stmt = stmt.where(Article.id.in_(list(flt.ids)))
        elif flt.q:
            like = "%" + re.sub(r"([\\%_])", r"\\\1", flt.q.lower()) + "%"  # the user's % and _ are characters
            stmt = stmt.where(or_(func.lower(Article.title).like(like, escape="\\"),
                                  func.lower(Article.body).like(like, escape="\\")))
        if flt.before_id:
            anchor = self.get_article(flt.before_id)
            if anchor is not None and anchor.published_at is not None:
                stmt = stmt.where(
                    or_(
                        Article.published_at < anchor.published_at,
                        (Article.published_at == anchor.published_at) & (Article.id < anchor.id),
                        Article.published_at.is_(None),
                    )
                )
            elif anchor is not None:
                stmt = stmt.where(Article.published_at.is_(None), Article.id < anchor.id)
        with self.session() as s:
            if not flt.tag:
                return list(s.scalars(stmt.limit(flt.limit)))
            # JSON containment differs per dialect; filter tags in Python over a bounded window.
            out: list[Article] = []
            for article in s.scalars(stmt.limit(flt.limit * 50)):
                if flt.tag in article.tags:
                    out.append(article)
                    if len(out) >= flt.limit:
                        break
            return out

    # ---- the seen-URL set ----------------------------------------------------------------------------
    def seen(self, urls: Sequence[str]) -> set[str]:
        """Which of these URLs were already dealt with in an earlier crawl."""
        found: set[str] = set()
        urls = list(dict.fromkeys(urls))
        for i in range(0, len(urls), 500):
            with self.session() as s:
                found.update(s.scalars(select(SeenUrl.url).where(SeenUrl.url.in_(urls[i : i + 500]))))
        return found

    def mark_seen(self, url: str, status: str, article_id: int | None = None) -> None:
        with self.session() as s:
            s.merge(SeenUrl(url=url, status=status, article_id=article_id, seen_at=utcnow()))

    # ---- feed validators -----------------------------------------------------------------------------
    def feed_state(self, url: str) -> FeedState | None:
        with self.session() as s:
            return s.get(FeedState, url)

    def save_feed_state(self, url: str, etag: str | None, last_modified: str | None) -> None:
        with self.session() as s:
            s.merge(FeedState(url=url, etag=etag, last_modified=last_modified, fetched_at=utcnow()))

    # ---- crawl runs ----------------------------------------------------------------------------------
    def start_run(self, group: str, sources: Sequence[str], worker: str = "") -> int:
        with self.session() as s:
            run = CrawlRun(group=group, sources=list(sources), status="running", worker=worker)
            s.add(run)
            s.flush()
            return run.id

    def finish_run(self, run_id: int, status: str, stats: dict, skips: dict) -> None:
        with self.session() as s:
            s.execute(
                update(CrawlRun)
                .where(CrawlRun.id == run_id)
                .values(status=status, stats=stats, skips=skips, finished_at=utcnow())
            )

    def runs(self, limit: int = 50) -> list[CrawlRun]:
        with self.session() as s:
            return list(s.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)))
