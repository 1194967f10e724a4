"""`newsagg export` (newsagg/export.py, Store.iter_export): every format from a store with real rows, on SQLite
and PostgreSQL; filters; story ids and also-in groups; keyset pages (lazy, bounded); hostile cells; the CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pyarrow.parquet as pq
import pytest
from sqlalchemy import event

from newsagg.export import ExportError, export_articles
from newsagg.models import Article, ArticleStory, Story
from newsagg.store import ExportFilter, Store

T0 = datetime(2024, 3, 28, 12, 0, tzinfo=timezone.utc)
HOSTILE = '=HYPERLINK("http://evil.example","click") <script>alert(1)</script>'


def add(store: Store, n: int, *, source: str = "voltwire", tags=("xiaomi", "ev"), group: int | None = None,
        title: str | None = None) -> int:
    return store.add_article(Article(
        url=f"https://{source}.example/{n}", source_id=store.ensure_source(source, f"https://{source}.example/"),
        title=title or f"Article {n}", authors=["Mara Lindqvist"], published_at=T0 + timedelta(days=n),
        body=f"Body of article {n}.", summary="s", tags=list(tags), entities=["xiaomi", "tesla"],
        relevance=0.9, content_hash=f"h{n}", near_dup_group=group,
    ))


@pytest.fixture
def world(store):
    """Five articles: a syndicated pair (1 and its copy 4), a story of 1, 2 and 4, tags a_b / ev, a hostile title."""
    ids = {n: add(store, n, tags=("byd", "ev") if n == 2 else ("xiaomi", "ev")) for n in (1, 2, 3)}
    ids[4] = add(store, 4, source="gigadrive", group=ids[1], title=HOSTILE)
    ids[5] = add(store, 5, source="gigadrive", tags=("a_b",))
    with store.session() as s:
        story = Story(label="Xiaomi SU7 launch", size=3, first_seen=T0, last_seen=T0)
        s.add(story)
        s.flush()
        s.add_all([ArticleStory(article_id=ids[n], story_id=story.id) for n in (1, 2, 4)])
        story_id = story.id
    return store, ids, story_id


def exported(store, flt=ExportFilter(), batch=2):
    return list(store.iter_export(flt, batch=batch))


def test_rows_carry_story_ids_and_also_in_groups(world):
    store, ids, story = world
    records = {r.article.id: r for r in exported(store)}
    assert list(records) == sorted(ids.values())
    assert records[ids[1]].story_id == story and records[ids[3]].story_id is None
    assert records[ids[1]].copies == [(ids[4], "https://gigadrive.example/4", "gigadrive")]
    assert records[ids[4]].copies == [(ids[1], "https://voltwire.example/1", "voltwire")]
    assert records[ids[2]].copies == [] and records[ids[2]].article.entities == ["xiaomi", "tesla"]


@pytest.mark.parametrize("flt, expected", [
    (ExportFilter(source="gigadrive"), [4, 5]),
    (ExportFilter(tag="byd"), [2]),
    (ExportFilter(tag="ev"), [1, 2, 3, 4]),
    (ExportFilter(tag="e"), []),  # a tag is matched whole, not as a substring of another
    (ExportFilter(tag="a_b"), [5]),
    (ExportFilter(tag="a%"), []),  # LIKE wildcards in a tag are literal
    (ExportFilter(since=T0 + timedelta(days=2), until=T0 + timedelta(days=4)), [2, 3]),
    (ExportFilter(source="voltwire", tag="xiaomi", since=T0 + timedelta(days=2)), [3]),
])
def test_filters(world, flt, expected):
    store, ids, _ = world
    assert [r.article.id for r in exported(store, flt)] == [ids[n] for n in expected]


def test_story_filter(world):
    store, ids, story = world
    assert [r.article.id for r in exported(store, ExportFilter(story=story))] == [ids[1], ids[2], ids[4]]
    assert exported(store, ExportFilter(story=story + 999)) == []


def test_jsonl_csv_and_parquet_hold_the_same_rows(world, tmp_path):
    store, ids, story = world
    for fmt in ("jsonl", "csv", "parquet"):
        assert export_articles(store, ExportFilter(), fmt, tmp_path / f"out.{fmt}", batch=2) == 5
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    table = pq.read_table(tmp_path / "out.parquet").to_pylist()
    for got in (lines, rows, table):
        assert [int(r["id"]) for r in got] == sorted(ids.values())
    first = lines[0]
    assert first["story_id"] == story and first["group_id"] == ids[1] and first["source"] == "voltwire"
    assert first["also_in"] == [{"id": ids[4], "url": "https://gigadrive.example/4", "source": "gigadrive"}]
    assert first["published_at"] == T0.replace(day=29).isoformat() and first["tags"] == ["xiaomi", "ev"]
    assert json.loads(rows[0]["also_in"]) == first["also_in"] and json.loads(rows[0]["tags"]) == ["xiaomi", "ev"]
    assert table[0]["also_in"] == first["also_in"] and table[0]["published_at"] == T0.replace(day=29)
    assert table[0]["entities"] == ["xiaomi", "tesla"] and table[2]["story_id"] is None


def test_csv_never_hands_a_spreadsheet_a_formula(world, tmp_path):
    store, ids, _ = world
    export_articles(store, ExportFilter(source="gigadrive"), "csv", tmp_path / "out.csv")
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as fh:
        title = next(csv.DictReader(fh))["title"]
    assert title == "'" + HOSTILE  # kept whole, but inert
    export_articles(store, ExportFilter(source="gigadrive"), "jsonl", tmp_path / "out.jsonl")
    assert json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])["title"] == HOSTILE


def test_parquet_is_written_one_row_group_per_page(store, tmp_path):
    for n in range(1, 24):
        add(store, n)
    export_articles(store, ExportFilter(), "parquet", tmp_path / "out.parquet", batch=5)
    meta = pq.ParquetFile(tmp_path / "out.parquet").metadata
    assert meta.num_rows == 23 and meta.num_row_groups == 5


def test_export_reads_keyset_pages_lazily(store):
    """Streaming: each page is one bounded query, and nothing is read before the consumer asks for it."""
    for n in range(1, 48):
        add(store, n)
    statements: list[str] = []

    def on_execute(_conn, _cursor, statement, *_args):
        if "FROM articles" in statement and "LIMIT" in statement.upper():
            statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", on_execute)
    try:
        rows = store.iter_export(ExportFilter(), batch=10)
        assert statements == []  # a generator: no query yet
        next(rows)
        assert len(statements) == 1  # the first page only
        assert sum(1 for _ in rows) == 46
        assert len(statements) == 6  # 47 rows in pages of 10, then the empty page that ends it
    finally:
        event.remove(store.engine, "before_cursor_execute", on_execute)


def test_bad_requests_fail_clearly(world, tmp_path):
    store, _, _ = world
    with pytest.raises(ExportError, match="parquet"):
        export_articles(store, ExportFilter(), "parquet", None, stdout=io.BytesIO())
    with pytest.raises(ExportError, match="format"):
        export_articles(store, ExportFilter(), "xml", tmp_path / "x")
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_a_failed_export_leaves_no_file(world, tmp_path, monkeypatch, fmt):
    store, _, _ = world
    (tmp_path / "out").mkdir()
    real = store.iter_export

    def breaks_after_one(flt, batch):
        rows = real(flt, batch=batch)
        yield next(rows)
        raise ConnectionError("store went away")

    monkeypatch.setattr(store, "iter_export", breaks_after_one)
    with pytest.raises(ConnectionError):
        export_articles(store, ExportFilter(), fmt, tmp_path / "out" / f"a.{fmt}")
    assert list((tmp_path / "out").iterdir()) == []  # neither the file nor its temporary


def test_export_to_stdout(world):
    store, ids, _ = world
    out = io.BytesIO()
    assert export_articles(store, ExportFilter(tag="byd"), "jsonl", None, stdout=out) == 1
    assert json.loads(out.getvalue())["id"] == ids[2]


def run_cli(tmp_path, *args):
    env = {**os.environ, "NEWSAGG_DATA_DIR": str(tmp_path), "NEWSAGG_CONFIG": str(tmp_path / "none.toml")}
    return subprocess.run([sys.executable, "-m", "newsagg.app.cli", "export", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_cli(tmp_path):
    store = Store(f"sqlite:///{(tmp_path / 'newsagg.db').resolve()}")
    for n in (1, 2, 3):
        add(store, n)
    store.close()
    done = run_cli(tmp_path, "--format", "csv", "--since", "2024-03-30", "--output", str(tmp_path / "a.csv"))
    assert done.returncode == 0, done.stderr
    assert "exported 2 article(s)" in done.stderr
    assert len((tmp_path / "a.csv").read_text().splitlines()) == 3  # header and two rows
    stdout = run_cli(tmp_path, "--format", "jsonl", "--source", "voltwire")
    assert stdout.returncode == 0 and len(stdout.stdout.splitlines()) == 3
    for bad, message in ((["--format", "parquet"], "--output"), (["--since", "yesterday"], "ISO date"),
                         (["--source", "nobody"], "no source named"), (["--format", "xml"], "unknown format")):
        done = run_cli(tmp_path, *bad)
        assert done.returncode == 2 and message in done.stderr, (bad, done.stderr)


@pytest.mark.slow
def test_export_memory_stays_about_one_page(sqlite_store, tmp_path):
    """2,000 articles of 20 kB (40 MB of text) exported in pages of 50: the peak stays near one page, not the store."""
    import tracemalloc

    source = sqlite_store.ensure_source("voltwire")
    body = "Xiaomi SU7 deliveries. " * 870  # ~20 kB
    for start in range(0, 2000, 250):
        with sqlite_store.session() as s:
            s.add_all(Article(url=f"https://v.example/{n}", source_id=source, title=f"A {n}", body=body, tags=["ev"],
                              content_hash=f"m{n}", published_at=T0) for n in range(start, start + 250))
    export_articles(sqlite_store, ExportFilter(), "jsonl", tmp_path / "warm.jsonl", batch=50)  # warm caches
    tracemalloc.start()
    try:
        n = export_articles(sqlite_store, ExportFilter(), "jsonl", tmp_path / "all.jsonl", batch=50)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 2000 and (tmp_path / "all.jsonl").stat().st_size > 40_000_000
    assert peak < 8_000_000, f"peak {peak / 1e6:.1f} MB for 40 MB of rows"
