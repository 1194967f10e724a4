"""The article store: the source of truth (SQLAlchemy 2; SQLite by default, PostgreSQL by URL).

Everything else (FAISS index, stories) is derived from it and can be rebuilt from it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    String,
    bindparam,
    cast,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, defer, sessionmaker

from newsagg.config import Settings, get_settings
from newsagg.crawl_ledger import CrawlLedger
from newsagg.driver_reads import DriverReads
from newsagg.engine import make_engine, migrate
from newsagg.exclusive import exclusive
from newsagg.models import (
    Article,
    ArticleStory,
    SeenUrl,
    Source,
    utcnow,
)
from newsagg.refs import ArticleRef

log = logging.getLogger(__name__)


# What a listing never needs (pages of /articles, the feed, the dashboard's Latest): the body, the raw HTML and
# the MinHash are most of a row's bytes. raiseload: touching one later is a loud error, never a silent N+1 load.
LISTING = (defer(Article.body, raiseload=True), defer(Article.raw_html_z, raiseload=True),
           defer(Article.minhash, raiseload=True))
WITHOUT_RAW = (defer(Article.raw_html_z, raiseload=True),)


class DuplicateArticle(Exception):
    """An article with this canonical URL is already stored."""


@dataclass(frozen=True)
class ExportFilter:
    """What `Store.iter_export` selects (all filters optional; combined with AND)."""

    source: str | None = None
    tag: str | None = None
    since: datetime | None = None  # published at or after
    until: datetime | None = None  # published before
    story: int | None = None


@dataclass(frozen=True)
class ExportRecord:
    """One exported article with its story and its syndicated copies (the other members of its group)."""

    article: Article
    story_id: int | None
    copies: list[tuple[int, str, str]]  # (article id, url, source name)


@dataclass(frozen=True)
class PruneTarget:
    """One kind of row past its retention (`Store.prune`): which table, which rows, and whether they go or only
    lose a column. The owner of the table says which rows (newsagg/retention.py, recommender/vectors.py)."""

    name: str
    entity: type
    condition: object
    clear_column: str | None = None  # None: delete the rows; else set this column to NULL


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


def escape_like(text: str, escape: str = "\\") -> str:
    """A user's text as a LIKE pattern that matches it literally (`%` and `_` are not wildcards)."""
    return text.replace(escape, escape * 2).replace("%", escape + "%").replace("_", escape + "_")


def _copies_of_statement():
    """Built once (building and cache-keying a statement costs more than running it on SQLite): one row per
    member of the article's group (the article itself included), or one row of NULLs when it has no group."""
    me, copy = aliased(Article), aliased(Article)
    return (select(copy.id, copy.url, copy.title, Source.name, copy.published_at).select_from(me)
            .outerjoin(copy, copy.near_dup_group == me.near_dup_group)
            .outerjoin(Source, Source.id == copy.source_id)
            .where(me.id == bindparam("article_id")).order_by(copy.id))


_COPIES_OF = _copies_of_statement()


class Store(CrawlLedger):
    """Typed access to sources, articles, the seen-URL set, feed validators, crawl retries and crawl runs."""

    def __init__(self, url: str, *, auto_migrate: bool = True):
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._source_ids: dict[str, int] = {}
        self.direct = DriverReads(self.engine)  # hot point reads, for the API's event loop
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
        self.direct.close()
        self.engine.dispose()

    def exclusive(self, name: str, on_wait: Callable[[], None] | None = None) -> AbstractContextManager[None]:
        """One holder of `name` at a time across every process using this store (see newsagg/exclusive.py)."""
        return exclusive(self.engine, name, on_wait)

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

    def has_source(self, name: str) -> bool:
        with self.session() as s:
            return s.scalar(select(Source.id).where(Source.name == name)) is not None

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

    def get_article(self, article_id: int, *, with_raw_html: bool = True) -> Article | None:
        """One article; `with_raw_html=False` leaves its largest column (the compressed page) unread."""
        with self.session() as s:
            return s.get(Article, article_id, options=() if with_raw_html else WITHOUT_RAW)

    def article_by_url(self, url: str) -> Article | None:
        with self.session() as s:
            return s.scalar(select(Article).where(Article.url == url))

    def articles_by_ids(self, ids: Sequence[int]) -> dict[int, Article]:
        if not ids:
            return {}
        with self.session() as s:
            stmt = select(Article).options(*WITHOUT_RAW).where(Article.id.in_(list(ids)))
            return {a.id: a for a in s.scalars(stmt)}

    def article_refs(self, ids: Sequence[int], batch: int = 500) -> dict[int, ArticleRef]:
        """id → reference of these articles (five columns read, not the rows)."""
        ids, out = list(ids), {}
        cols = select(Article.id, Article.url, Article.title, Source.name, Article.published_at).join(Source)
        for i in range(0, len(ids), batch):
            with self.session() as s:
                out.update((r[0], ArticleRef(*r)) for r in s.execute(cols.where(Article.id.in_(ids[i : i + batch]))))
        return out

    def article_ids(self) -> set[int]:
        """The id of every stored article."""
        with self.session() as s:
            return set(s.scalars(select(Article.id)))

    def article_by_hash(self, content_hash: str) -> Article | None:
        with self.session() as s:
            return s.scalar(select(Article).where(Article.content_hash == content_hash).limit(1))

    def copies_of(self, article_id: int, *, direct: bool = False) -> list[ArticleRef] | None:
        """References of the article's near-duplicate copies, by id; None when no such article.

        One indexed query and only those columns: GET /articles/{id}/related asks this on every cache miss
        (`direct`: on this thread's own driver connection, newsagg/driver_reads.py)."""
        if direct:
            rows = self.direct.all(_COPIES_OF, {"article_id": article_id})
        else:
            with self.engine.connect() as conn:
                rows = conn.execute(_COPIES_OF, {"article_id": article_id}).all()
        if not rows:
            return None
        return [ArticleRef(aid, url, title or "", source, published) for aid, url, title, source, published in rows
                if aid is not None and aid != article_id]

    def group_members(self, group_id: int) -> list[Article]:
        with self.session() as s:
            return list(s.scalars(select(Article).options(*LISTING)
                                  .where(Article.near_dup_group == group_id).order_by(Article.id)))

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

    def tag_counts(self, newest: int) -> Counter[str]:
        """How many of the newest `newest` articles (by id) carry each tag."""
        with self.session() as s:
            rows = s.scalars(select(Article.tags).order_by(Article.id.desc()).limit(newest)).all()
        return Counter(t for tags in rows for t in (tags or ()))

    def daily_counts(self, by: str = "published") -> Counter[tuple[date, str]]:
        """(day, source name) → articles, by publication day (`by="published"`) or by fetch day; undated left out."""
        column = Article.published_at if by == "published" else Article.fetched_at
        with self.session() as s:
            rows = s.execute(select(column, Source.name).join(Source, Article.source_id == Source.id))
            return Counter((when.date(), name) for when, name in rows if when is not None)

    def list_articles(self, flt: ArticleFilter) -> list[Article]:
        """Newest first, filtered; listing columns only (no body, raw HTML or MinHash), at most `flt.limit` rows."""
        stmt = (select(Article).options(*LISTING)
                .order_by(Article.published_at.desc().nulls_last(), Article.id.desc()).limit(flt.limit))
        if flt.source:
            stmt = stmt.join(Source).where(Source.name == flt.source)
        if flt.tag:
            stmt = stmt.where(self._has_tag(flt.tag))
        if flt.since:
            stmt = stmt.where(Article.published_at >= flt.since)
        if flt.until:
            stmt = stmt.where(Article.published_at < flt.until)
        if flt.ids is not None:
            stmt = stmt.where(Article.id.in_(list(flt.ids)))
        elif flt.q:
            like = "%" + escape_like(flt.q.lower()) + "%"
            stmt = stmt.where(or_(func.lower(Article.title).like(like, escape="\\"),
                                  func.lower(Article.body).like(like, escape="\\")))
        if flt.before_id:
            stmt = self._older_than(stmt, flt.before_id)
        with self.session() as s:
            return list(s.scalars(stmt))

    def _has_tag(self, tag: str):
        """Tag membership in SQL: JSONB containment on PostgreSQL (GIN-indexed, migration 0004), json_each on SQLite."""
        if self.engine.dialect.name == "postgresql":
            return cast(Article.tags, JSONB).op("@>")(func.jsonb_build_array(cast(literal(tag), String)))
        each = func.json_each(Article.tags).table_valued("value")
        return exists(select(literal(1)).select_from(each).where(each.c.value == tag))

    def article_position(self, article_id: int) -> tuple[int, datetime | None] | None:
        """(id, published_at) of an article, or None: where a cursor points, without loading the row."""
        with self.session() as s:
            row = s.execute(select(Article.id, Article.published_at).where(Article.id == article_id)).first()
        return (row[0], row[1]) if row else None

    def _older_than(self, stmt, anchor_id: int):
        anchor = self.article_position(anchor_id)
        if anchor is None:
            return stmt
        anchor_id, published = anchor
        if published is None:
            return stmt.where(Article.published_at.is_(None), Article.id < anchor_id)
        return stmt.where(or_(Article.published_at < published,
                              (Article.published_at == published) & (Article.id < anchor_id),
                              Article.published_at.is_(None)))

    # ---- export and re-tagging: keyset pages by id, never all rows at once ----------------------------------
    def iter_export(self, flt: ExportFilter, batch: int = 1000) -> Iterator[ExportRecord]:
        """Articles matching `flt` by ascending id, read `batch` rows per query (constant memory, short reads)."""
        stmt = (select(Article, ArticleStory.story_id)
                .outerjoin(ArticleStory, ArticleStory.article_id == Article.id)
                .options(defer(Article.raw_html_z), defer(Article.minhash))
                .order_by(Article.id).limit(batch))
        if flt.source:
            stmt = stmt.join(Source, Source.id == Article.source_id).where(Source.name == flt.source)
        if flt.since:
            stmt = stmt.where(Article.published_at >= flt.since)
        if flt.until:
            stmt = stmt.where(Article.published_at < flt.until)
        if flt.story is not None:
            stmt = stmt.where(ArticleStory.story_id == flt.story)
        if flt.tag:
            stmt = stmt.where(self._has_tag(flt.tag))
        after = 0
        while True:
            with self.session() as s:
                rows = s.execute(stmt.where(Article.id > after)).all()
                copies = self._copies(s, {a.near_dup_group for a, _ in rows if a.near_dup_group is not None})
            if not rows:
                return
            for article, story_id in rows:
                if flt.tag and flt.tag not in (article.tags or []):
                    continue
                group = copies.get(article.near_dup_group, [])
                yield ExportRecord(article, story_id, [c for c in group if c[0] != article.id])
            after = rows[-1][0].id

    @staticmethod
    def _copies(s: Session, groups: set[int]) -> dict[int, list[tuple[int, str, str]]]:
        out: dict[int, list[tuple[int, str, str]]] = {}
        if not groups:
            return out
        for aid, url, source, group in s.execute(
            select(Article.id, Article.url, Source.name, Article.near_dup_group)
            .join(Source, Source.id == Article.source_id)
            .where(Article.near_dup_group.in_(groups)).order_by(Article.id)
        ):
            out.setdefault(group, []).append((aid, url, source))
        return {g: members for g, members in out.items() if len(members) > 1}

    def iter_texts(self, batch: int = 500) -> Iterator[list[tuple]]:
        """(id, title, summary, body, tags, entities, relevance) of every article, one keyset page at a time."""
        after = 0
        cols = select(Article.id, Article.title, Article.summary, Article.body, Article.tags, Article.entities,
                      Article.relevance)
        while True:
            with self.session() as s:
                page = [tuple(r) for r in s.execute(cols.where(Article.id > after).order_by(Article.id).limit(batch))]
            if not page:
                return
            yield page
            after = page[-1][0]

    def set_topics(self, updates: Sequence[tuple[int, list[str], list[str], float]]) -> None:
        """Write recomputed (id, tags, entities, relevance) in one transaction."""
        if not updates:
            return
        with self.session() as s:
            for aid, tags, entities, relevance in updates:
                s.execute(update(Article).where(Article.id == aid)
                          .values(tags=tags, entities=entities, relevance=relevance))

    def prune(self, plan: Sequence[PruneTarget], *, apply: bool) -> dict[str, int]:
        """Rows each target matches; with `apply`, removed (one transaction: all of it or nothing)."""
        counts: dict[str, int] = {}
        with self.session() as s:
            for target in plan:
                counts[target.name] = s.scalar(select(func.count()).select_from(target.entity).where(target.condition))
                if not apply or not counts[target.name]:
                    continue
                if target.clear_column is None:
                    s.execute(delete(target.entity).where(target.condition))
                else:
                    s.execute(update(target.entity).where(target.condition).values({target.clear_column: None}))
        return counts
