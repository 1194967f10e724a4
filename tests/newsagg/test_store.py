"""The store on SQLite and PostgreSQL: schema by migration, articles, seen URLs, feed validators, crawl runs."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, text

from newsagg.models import Article
from newsagg.refs import ArticleRef
from newsagg.store import ArticleFilter, DuplicateArticle, Store

T0 = datetime(2024, 3, 28, 14, 40, tzinfo=timezone.utc)


def make_article(store: Store, url: str, title: str = "Xiaomi SU7 launch", *, source: str = "voltwire",
                 published: datetime | None = T0, tags=("xiaomi", "ev"), body: str = "Body text " * 50,
                 content_hash: str | None = None) -> Article:
    return Article(
        url=url, source_id=store.ensure_source(source, f"https://{source}.example/"), title=title,
        authors=["Mara Lindqvist"], published_at=published, body=body, summary="s", tags=list(tags),
        content_hash=content_hash or url,
    )


def test_migration_creates_schema(store):
    tables = set(inspect(store.engine).get_table_names())
    assert {"articles", "sources", "seen_urls", "feed_states", "crawl_runs", "embeddings",
            "alembic_version"} <= tables


def test_reopening_a_migrated_store_keeps_data(database_url):
    first = Store(database_url)
    article_id = first.add_article(make_article(first, "https://a.example/1"))
    first.close()
    again = Store(database_url)  # runs migrations again: must be a no-op
    assert again.get_article(article_id).title == "Xiaomi SU7 launch"
    again.close()


def test_article_round_trip_keeps_fields_and_utc(store):
    art = make_article(store, "https://a.example/x", published=datetime(2024, 3, 28, 22, 40,
                                                                         tzinfo=timezone(timedelta(hours=8))))
    art.raw_html = "<html><body><p>Hello ✓</p></body></html>"
    art.lead_image = "https://a.example/img.jpg"
    article_id = store.add_article(art)
    got = store.get_article(article_id)
    assert got.published_at == T0 and got.published_at.tzinfo is not None
    assert got.authors == ["Mara Lindqvist"] and got.tags == ["xiaomi", "ev"]
    assert got.raw_html == "<html><body><p>Hello ✓</p></body></html>"
    assert len(got.raw_html_z) < len(got.raw_html.encode()) + 20
    assert got.near_dup_group == article_id  # a new article starts its own group
    assert got.source_name == "voltwire"


def test_naive_datetimes_are_refused(store):
    with pytest.raises(Exception):
        store.add_article(make_article(store, "https://a.example/naive", published=datetime(2024, 1, 1)))
    assert store.count_articles() == 0  # nothing half-written


def test_duplicate_url_raises_and_leaves_one_row(store):
    store.add_article(make_article(store, "https://a.example/dup"))
    with pytest.raises(DuplicateArticle):
        store.add_article(make_article(store, "https://a.example/dup"))
    assert store.count_articles() == 1


def test_seen_urls_include_fetched_url_and_canonical(store):
    store.add_article(make_article(store, "https://a.example/canon"), fetched_url="https://a.example/canon?utm_source=x")
    store.mark_seen("https://a.example/offtopic", "skipped/off_topic")
    seen = store.seen(["https://a.example/canon", "https://a.example/canon?utm_source=x",
                       "https://a.example/offtopic", "https://a.example/new"])
    assert seen == {"https://a.example/canon", "https://a.example/canon?utm_source=x", "https://a.example/offtopic"}


def test_list_articles_filters_and_cursor(store):
    for i in range(5):
        store.add_article(make_article(store, f"https://a.example/{i}", title=f"story {i}",
                                       published=T0 + timedelta(hours=i), source="a" if i % 2 else "b",
                                       tags=("tesla",) if i == 3 else ("byd",)))
    newest = store.list_articles(ArticleFilter(limit=2))
    assert [a.title for a in newest] == ["story 4", "story 3"]
    page2 = store.list_articles(ArticleFilter(limit=2, before_id=newest[-1].id))
    assert [a.title for a in page2] == ["story 2", "story 1"]
    assert [a.title for a in store.list_articles(ArticleFilter(source="a"))] == ["story 3", "story 1"]
    assert [a.title for a in store.list_articles(ArticleFilter(tag="tesla"))] == ["story 3"]
    assert [a.title for a in store.list_articles(ArticleFilter(q="STORY 2"))] == ["story 2"]
    since = store.list_articles(ArticleFilter(since=T0 + timedelta(hours=3)))
    assert {a.title for a in since} == {"story 3", "story 4"}


def test_feed_state_and_runs(store):
    assert store.feed_state("https://a.example/feed") is None
    store.save_feed_state("https://a.example/feed", '"abc"', "Thu, 28 Mar 2024 14:40:00 GMT")
    state = store.feed_state("https://a.example/feed")
    assert state.etag == '"abc"' and state.last_modified.startswith("Thu")
    run_id = store.start_run("demo", ["voltwire"])
    assert store.runs()[0].status == "running"
    store.finish_run(run_id, "finished", {"new": 3}, {"off_topic": 1})
    run = store.runs()[0]
    assert (run.status, run.stats, run.skips) == ("finished", {"new": 3}, {"off_topic": 1})
    assert run.finished_at >= run.started_at


def test_group_members_and_iteration(store):
    first = store.add_article(make_article(store, "https://a.example/orig"))
    copy = make_article(store, "https://b.example/copy", source="b")
    copy.near_dup_group = first
    store.add_article(copy)
    assert [a.url for a in store.group_members(first)] == ["https://a.example/orig", "https://b.example/copy"]
    assert [a.url for a in store.iter_articles(batch=1)] == ["https://a.example/orig", "https://b.example/copy"]


def test_copies_read_on_the_driver_connection_equal_the_sqlalchemy_read(store):
    """The API's hot read (newsagg/driver_reads.py) gives what SQLAlchemy gives: same rows, dates UTC-aware, and
    a commit made after this thread's connection opened is seen (autocommit, no snapshot held)."""
    first = store.add_article(make_article(store, "https://a.example/orig"))
    assert store.copies_of(first, direct=True) == store.copies_of(first) == []
    assert store.copies_of(10**9, direct=True) is None and store.copies_of(10**9) is None
    copy = make_article(store, "https://b.example/copy", source="b", published=T0 + timedelta(hours=3))
    copy.near_dup_group = first
    second = store.add_article(copy)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE articles SET near_dup_group = :g WHERE id = :g"), {"g": first})
    refs = store.copies_of(first, direct=True)
    assert refs == store.copies_of(first) == [ArticleRef(second, "https://b.example/copy", "Xiaomi SU7 launch", "b",
                                                         T0 + timedelta(hours=3))]
    assert refs[0].published.tzinfo is not None


def test_reads_that_result_lists_and_the_dashboard_make_through_the_store(store):
    """References (five columns, in batches), every id, tags of the newest articles, articles per day and source."""
    later = T0 + timedelta(days=1)
    a = store.add_article(make_article(store, "https://a.example/r1"))
    b = store.add_article(make_article(store, "https://b.example/r2", "BYD Seal", source="autowire", published=None,
                                       tags=("byd", "ev")))
    c = store.add_article(make_article(store, "https://a.example/r3", "Later", published=later, tags=("ev",)))
    assert store.article_refs([a, b, 10**9], batch=2) == {
        a: ArticleRef(a, "https://a.example/r1", "Xiaomi SU7 launch", "voltwire", T0),
        b: ArticleRef(b, "https://b.example/r2", "BYD Seal", "autowire", None)}
    assert store.article_ids() == {a, b, c}
    assert store.tag_counts(newest=2) == Counter({"ev": 2, "byd": 1})  # b and c, not a
    assert store.daily_counts("published") == Counter({(T0.date(), "voltwire"): 1, (later.date(), "voltwire"): 1})
    fetched = Counter((store.get_article(i).fetched_at.date(), store.get_article(i).source_name) for i in (a, b, c))
    assert store.daily_counts("fetched") == fetched


def test_the_id_of_a_deleted_newest_article_is_never_handed_out_again(store):
    from sqlalchemy import delete

    store.add_article(make_article(store, "https://a.example/old"))
    newest = store.add_article(make_article(store, "https://a.example/newest"))
    with store.session() as s:
        s.execute(delete(Article).where(Article.id == newest))
    again = store.add_article(make_article(store, "https://a.example/another"))
    assert again > newest  # a reused id would make the index keep the deleted article's vector for this one


def test_upgrading_an_existing_sqlite_store_keeps_rows_and_their_dependants(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import delete, func, select

    from newsagg.models import Embedding, SeenUrl
    from newsagg.engine import MIGRATIONS_DIR, make_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:  # a store as the previous release left it
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003_crawl_run_exit")
    engine.dispose()
    old = Store(url, auto_migrate=False)
    source_id = old.ensure_source("voltwire", "https://voltwire.example/")
    old.close()
    with engine.begin() as conn:  # rows written as that release wrote them: only the columns its schema has
        first, second = (_insert_0003_article(conn, f"https://a.example/{i}", source_id) for i in (1, 2))
        conn.execute(text("INSERT INTO embeddings (article_id, model, text_hash, vector) VALUES (:a, 'm', 'h', :v)"),
                     {"a": first, "v": b"\0" * 8})
    engine.dispose()

    store = Store(url)  # migrates to head: the articles table is rebuilt
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Embedding)) == 1  # nothing cascaded away
        assert s.scalar(select(SeenUrl.article_id).where(SeenUrl.url == "https://a.example/1")) == first
        s.execute(delete(Article).where(Article.id == second))
    assert store.add_article(make_article(store, "https://a.example/3")) > second
    assert [a.url for a in store.list_articles(ArticleFilter(tag="xiaomi"))] == ["https://a.example/3",
                                                                                 "https://a.example/1"]
    store.close()


def _sqlite_time(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _insert_0003_article(conn, url: str, source_id: int) -> int:
    article_id = conn.execute(text(
        "INSERT INTO articles (url, source_id, title, authors, fetched_at, summary, body, tags, relevance, paywalled,"
        " content_hash, published_at) VALUES (:url, :src, 'Xiaomi SU7 launch', '[\"Mara Lindqvist\"]', :t, 's',"
        " :body, '[\"xiaomi\", \"ev\"]', 0.0, 0, :url, :t)"),
        {"url": url, "src": source_id, "t": _sqlite_time(T0), "body": "Body text " * 50}).lastrowid
    conn.execute(text("INSERT INTO seen_urls (url, status, article_id, seen_at) VALUES (:url, 'stored', :a, :t)"),
                 {"url": url, "a": article_id, "t": _sqlite_time(T0)})
    return article_id


def test_tag_filter_is_exact_membership_in_sql(store):
    for i, tags in enumerate([("ev",), ("evtol",), ("ev", "byd"), ()]):
        store.add_article(make_article(store, f"https://a.example/t{i}", title=f"t{i}", tags=tags,
                                       published=T0 + timedelta(hours=i)))
    assert [a.title for a in store.list_articles(ArticleFilter(tag="ev"))] == ["t2", "t0"]
    assert store.list_articles(ArticleFilter(tag="e")) == []  # no substring match
    assert store.list_articles(ArticleFilter(tag='"ev"')) == []
    assert [a.title for a in store.list_articles(ArticleFilter(tag="ev", limit=1))] == ["t2"]


def test_listing_loads_no_body_or_raw_html_and_like_is_literal(store):
    from sqlalchemy.exc import InvalidRequestError
    from sqlalchemy.orm.exc import DetachedInstanceError

    art = make_article(store, "https://a.example/raw", title="100% pure_gold", body="x" * 5000)
    art.raw_html = "<html>" + "y" * 5000 + "</html>"
    store.add_article(art)
    store.add_article(make_article(store, "https://a.example/other", title="100 pure gold"))
    listed = store.list_articles(ArticleFilter(q="100%"))
    assert [a.title for a in listed] == ["100% pure_gold"]  # % is a character here, not a wildcard
    assert [a.title for a in store.list_articles(ArticleFilter(q="e_g"))] == ["100% pure_gold"]
    for column in ("body", "raw_html_z", "minhash"):
        # deferred, and never loaded behind our back either
        with pytest.raises((InvalidRequestError, DetachedInstanceError)):
            getattr(listed[0], column)
    assert listed[0].tags == ["xiaomi", "ev"] and listed[0].source_name == "voltwire"
    detail = store.get_article(listed[0].id, with_raw_html=False)  # a detail page needs the body, not the page
    assert detail.body == "x" * 5000
    with pytest.raises((InvalidRequestError, DetachedInstanceError)):
        detail.raw_html_z
    assert store.get_article(listed[0].id).raw_html.startswith("<html>y")
