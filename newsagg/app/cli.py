"""`newsagg` — the command line: crawl · sources · runs · schedule · up · demo-sites · demo (and more)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from newsagg.app.sources_cli import sources_app
from newsagg.app.terminal import console, split_names
from newsagg.config import get_settings

app = typer.Typer(help="newsagg: tech & automotive news aggregator.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
INDEX_LOCK = "index-update"  # Store.exclusive section of every index update (`newsagg index`, the scheduler's)


def _summary_table(counts: dict[str, int], skips: dict[str, int], title: str) -> Table:
    table = Table(title=title, show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, value in counts.items():
        table.add_row(name.replace("_", " "), str(value))
    for reason, value in sorted(skips.items()):
        table.add_row(f"[yellow]skipped: {reason}[/]", str(value))
    return table


@app.command()
def crawl(
    sources: Optional[str] = typer.Option(None, help="Comma-separated source names (default: all)."),
    registry: Optional[Path] = typer.Option(None, help="Source registry TOML (default: settings)."),
    max_age_days: Optional[float] = typer.Option(None, help="Skip entries older than this; 0 = no limit."),
    group: str = typer.Option("", help="Name recorded with the crawl run (scheduler groups)."),
    discover: str = typer.Option("all", help="Where to find articles: all | feeds | sitemaps."),
    quiet: bool = typer.Option(False, help="No live progress, only the summary."),
) -> None:
    """Crawl feeds and sitemaps of the registry's sources into the store."""
    from crawler.registry import Registry, RegistryError
    from crawler.run import run_crawl

    if discover not in ("all", "feeds", "sitemaps"):
        console.print(f"[red]--discover must be all, feeds or sitemaps, not {escape(repr(discover))}[/]")
        raise typer.Exit(2)
    try:
        chosen = Registry.load(registry or get_settings().crawl.sources_file).select(split_names(sources))
    except RegistryError as exc:
        console.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(2) from exc
    console.print(f"Crawling {len(chosen)} source(s): {', '.join(s.name for s in chosen)}")
    live = Live(console=console, refresh_per_second=4, transient=True)

    def tick(stats: dict) -> None:
        from crawler.extensions import summarise

        c = summarise(stats)
        live.update(f"[cyan]requests {c['requests']} · pages {c['pages']} · new {c['new']} · "
                    f"duplicates {c['duplicate']} · near-dups {c['near_duplicate']}[/]")

    if not quiet:
        live.start()
    try:
        result = run_crawl(sources=split_names(sources), registry=str(registry) if registry else None,
                           max_age_days=max_age_days, group=group, discover=discover,
                           on_tick=None if quiet else tick)
    finally:
        if not quiet:
            live.stop()
    console.print(_summary_table(result.counts, result.skips, f"Crawl run {result.run_id}: {result.reason}"))
    if result.reason != "finished":
        raise typer.Exit(1)


@app.command()
def runs(limit: int = typer.Option(10, help="How many recent runs.")) -> None:
    """Crawl-run history from the store."""
    from newsagg.store import Store

    table = Table("id", "group", "status", "exit", "started", "seconds", "new", "skipped")
    store = Store.from_settings()
    for run in store.runs(limit):
        seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
        table.add_row(str(run.id), run.group or "-", run.status, "-" if run.exit_code is None else str(run.exit_code),
                      f"{run.started_at:%Y-%m-%d %H:%M:%S}",
                      f"{seconds:.1f}" if seconds is not None else "-", str(run.stats.get("new", 0)),
                      str(sum(run.skips.values())))
    console.print(table)
    _print_health_flags(store)


def _print_health_flags(store) -> None:
    """Sources whose latest crawl extracted much worse than their own earlier runs (crawler/health.py)."""
    from crawler.health import health_flags

    flags = health_flags(store.source_health(runs=get_settings().health.recent_runs), get_settings().health)
    for flag in flags:
        console.print(f"[yellow]health: {escape(flag.message)}[/]")
    if not flags:
        console.print("[green]health: no source fell away from its own history[/]")


def _service():
    from newsagg.store import Store
    from recommender.service import RelatedService

    return RelatedService(Store.from_settings())


@app.command()
def index(
    rebuild: bool = typer.Option(False, "--rebuild", help="Rebuild everything from the store."),
    follow_pid: Annotated[Optional[int], typer.Option(
        "--follow-pid", help="Keep indexing in batches while this (crawl) process runs, on "
        "embedding.threads_while_crawling threads; a last pass after it ends.")] = None,
) -> None:
    """Embed and index new articles (or rebuild from the store), assign stories, publish a snapshot."""
    service = _service()

    def waiting() -> None:
        console.print("[yellow]another index update of this store is running; waiting for it to finish…[/]")

    # Store-wide (an advisory lock on PostgreSQL): schedulers on several machines never update one index at once
    if follow_pid is not None:
        from newsagg.app.ingest import index_while, pid_alive

        threads = get_settings().embedding.threads_while_crawling
        with service.store.exclusive(INDEX_LOCK, on_wait=waiting):
            follow = index_while(service, lambda: pid_alive(follow_pid), threads)
        console.print(f"indexed {follow.added} article(s) beside process {follow_pid} in {follow.passes} pass(es), "
                      f"{follow.seconds:.1f}s ({follow.lists_written} related lists written): {follow.total} in the index — "
                      f"model {service.model_key}")
        return
    with service.store.exclusive(INDEX_LOCK, on_wait=waiting), console.status("indexing…"):
        stats = service.rebuild() if rebuild else service.update_index()
    console.print(f"index v{stats.version}: {stats.total} articles ({stats.added} added, {stats.removed} removed; "
                  f"{stats.embedded} embedded, {stats.reused} reused; {stats.stories_touched} stories touched) "
                  f"in {stats.seconds:.1f}s — model {service.model_key}")


@app.command()
def prune(yes: bool = typer.Option(False, "--yes", help="Remove them (default: only count what would go).")) -> None:
    """Drop what is past its retention (the `retention.*` settings): old seen-set rows, crawl runs, raw HTML, and the
    vectors of embedding models no longer configured. A dry run unless --yes."""
    from newsagg.retention import targets
    from newsagg.store import Store
    from recommender.embed import Embedder, EmbedderInfo
    from recommender.vectors import retired_vectors

    settings = get_settings()
    embedding = settings.embedding
    current = EmbedderInfo(embedding.model, Embedder(embedding).backend, 0).key  # the model itself is not loaded
    plan = [*targets(settings.retention), *retired_vectors(settings.retention, [current])]
    counts = Store.from_settings(settings).prune(plan, apply=yes)
    table = Table("what", "rows", title="pruned" if yes else "would prune (dry run: pass --yes to remove them)")
    for name, count in counts.items():
        table.add_row(name, str(count))
    console.print(table)


def _print_related(service, article_id: int | None = None, url: str | None = None, limit: int = 5) -> None:
    items = service.related(article_id, url=url, limit=limit)
    if not items:
        console.print("  [dim](nothing related above the threshold)[/]")
    for item in items:
        also = f"  [dim]also in: {', '.join(a.source for a in item.also_in)}[/]" if item.also_in else ""
        console.print(f"  {item.score:.2f}  [bold]{escape(item.title)}[/] [dim]({item.source})[/]{also}")
        console.print(f"        [dim]{escape(item.reason)}[/]")


@app.command()
def related(target: str = typer.Argument(..., help="Article id or URL."),
            limit: int = typer.Option(5, min=1, max=50)) -> None:
    """Related articles of a stored article, by id or URL."""
    service = _service()
    try:
        if target.isdigit():
            article = service.store.get_article(int(target))
            if article is None:
                raise KeyError(target)
            console.print(f"[bold]{escape(article.title)}[/] ({article.source_name})")
            _print_related(service, int(target), limit=limit)
        else:
            _print_related(service, url=target, limit=limit)
    except KeyError:
        console.print(f"[red]no stored article {target}[/]")
        raise typer.Exit(1)


@app.command()
def search(query: str, mode: str = typer.Option("hybrid", help="keyword | semantic | hybrid"),
           limit: int = typer.Option(10, min=1, max=100)) -> None:
    """Search the store."""
    for hit in _service().search(query, mode=mode, limit=limit):
        console.print(f"{hit.score:.3f}  [bold]{escape(hit.title)}[/] [dim]({hit.source}, id {hit.article_id})[/]")


@app.command("dashboard")
def dashboard_command(
    host: Optional[str] = typer.Option(None, help="Address to listen on (default: settings dashboard.host)."),
    port: Optional[int] = typer.Option(None, help="Port to listen on (default: settings dashboard.port)."),
) -> None:
    """Run the Streamlit dashboard over the store (same recommender service as the API)."""
    from streamlit.web import cli as streamlit_cli

    import dashboard

    where = get_settings().dashboard
    host, port = where.host if host is None else host, where.port if port is None else port
    app_file = Path(next(iter(dashboard.__path__))).resolve() / "app.py"  # also when installed as a namespace
    console.print(f"Dashboard: http://{host}:{port}/  (Ctrl-C to stop)")
    # `streamlit run` in this process, not a child: Ctrl-C and SIGTERM reach Streamlit itself, and the parent
    # watch of `newsagg up` (started in __main__) keeps running, so nothing is ever orphaned
    streamlit_cli.main(
        args=["run", str(app_file), "--server.address", host, "--server.port", str(port),
              "--server.headless", "true", "--browser.gatherUsageStats", "false",
              "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal",
              "--client.showErrorDetails", "none"],  # no traceback ever reaches a browser
        prog_name="streamlit",
    )


@app.command("api")
def api_command(
    host: Optional[str] = typer.Option(None, help="Address to listen on (default: settings api.host)."),
    port: Optional[int] = typer.Option(None, help="Port to listen on; 0 = a free one (default: api.port)."),
) -> None:
    """Serve the HTTP API (related articles, search, stories, feed, widget) with uvicorn; prints its URL."""
    from recommender.api.serve import serve

    settings = get_settings()
    api = settings.api

    def announce(url: str) -> None:
        typer.echo(f"newsagg API: {url}  (docs: {url}docs, ready when {url}readyz says so)")
        sys.stdout.flush()

    serve(settings, api.host if host is None else host, api.port if port is None else port, announce)


@app.command("demo-sites")
def demo_sites(
    port: int = typer.Option(0, help="First port (the four outlets take port..port+3); 0 = free ports."),
    write: Path = typer.Option(None, help="Directory for demo-sources.toml and demo-ground-truth.json."),
) -> None:
    """Serve the bundled demo news outlets on 127.0.0.1 until Ctrl-C."""
    from newsagg.demo.server import DemoSites

    with DemoSites(base_port=port) as sites:
        registry, truth = sites.write_files(write or get_settings().data_dir / "demo")
        for outlet in sites.ports:
            console.print(f"{outlet:>15}: {sites.base_url(outlet)}/")
        console.print(f"registry: {registry}\nground truth: {truth}\nCtrl-C to stop.")
        _wait_forever()


def _wait_forever() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        console.print("stopped")


def masked_url(database_url: str) -> str:
    """A database URL fit to print: the password replaced by ***."""
    from sqlalchemy.engine import make_url

    return make_url(database_url).render_as_string(hide_password=True)


def demo_env() -> dict[str, str]:
    """Settings for crawling the local demo sites: private addresses allowed, no age limit, short delays."""
    from newsagg.demo import local_crawl_env

    # The user's newsagg.toml still applies to the demo (data_dir, database_url).
    return local_crawl_env(NEWSAGG_CRAWL__DOWNLOAD_DELAY="0.05",
                           NEWSAGG_CONFIG=os.environ.get("NEWSAGG_CONFIG", "newsagg.toml"))


@app.command()
def demo(serve: bool = typer.Option(True, help="End with the API and the dashboard running (Ctrl-C stops).")) -> None:
    """The main job on the bundled demo sites: serve, crawl, index, show related articles, then API + dashboard."""
    from newsagg.app.processes import cli_argv
    from newsagg.demo.server import DemoSites

    settings = get_settings()
    with DemoSites() as sites:
        registry, _ = sites.write_files(settings.data_dir / "demo")
        console.rule("[bold]1. crawl the demo news sites")
        code = subprocess.call(cli_argv("crawl", "--registry", str(registry)), env=demo_env())
        if code != 0:
            raise typer.Exit(code)
        console.print(f"Store: {masked_url(settings.database_url)}")
        console.rule("[bold]2. index: embed, add to FAISS, group into stories")
        index(rebuild=False)
        console.rule("[bold]3. related articles")
        _show_demo_related(_service())
        if serve:
            _serve_demo(settings, sites)


def _show_demo_related(service, how_many: int = 3) -> None:
    """Related lists of a few articles that belong to multi-outlet stories."""
    shown = 0
    for story in service.stories(min_size=3, limit=how_many * 3):
        if shown >= how_many:
            break
        first = story.articles[0]
        console.print(f"[bold]{escape(first.title)}[/] [dim]({first.source}, id {first.article_id})[/]")
        _print_related(service, first.article_id)
        console.print()
        shown += 1


def _serve_demo(settings, sites) -> None:
    from newsagg.app.supervise import Supervisor, deployment

    console.rule("[bold]4. API and dashboard")
    services = [s for s in deployment(settings) if s.name in ("api", "dashboard")]
    supervisor = Supervisor(services, stop_timeout=10)
    for outlet in sites.ports:
        console.print(f"demo site {outlet:>15}: {sites.base_url(outlet)}/")
    for line in supervisor.describe():
        console.print(line)
    raise typer.Exit(supervisor.run())


@app.command()
def schedule(
    once: bool = typer.Option(False, "--once", help="Run every group once now (then the index), then exit."),
    group: Optional[str] = typer.Option(None, help="Comma-separated group names (default: all configured)."),
) -> None:
    """Recurring crawls per source group (`schedule.groups` in the config), then an incremental index update."""
    import logging

    from newsagg.app.processes import install_stop_handlers
    from newsagg.app.schedule import Scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        scheduler = Scheduler()
        names = split_names(group)
        install_stop_handlers(scheduler.stop)
        if not once:
            scheduler.run_forever(names)
            return
        outcomes = scheduler.run_once(names)
    except ValueError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    for o in outcomes:
        console.print(f"{o.group}: {o.status}, {o.new} new")
    if any(o.status not in ("finished", "locked") for o in outcomes):
        raise typer.Exit(1)


@app.command()
def up() -> None:
    """Run the scheduler, the API and the dashboard together until Ctrl-C/SIGTERM."""
    import logging

    from newsagg.app.supervise import Supervisor, deployment

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    supervisor = Supervisor(deployment(get_settings()), stop_timeout=get_settings().schedule.stop_timeout)
    for line in supervisor.describe():
        console.print(line)
    raise typer.Exit(supervisor.run())


def _moment(value: Optional[str], option: str):
    """An ISO date or date-time; without an offset it is UTC."""
    from datetime import datetime, timezone

    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        Console(stderr=True).print(f"[red]{option} must be an ISO date or date-time (2024-03-28, 2024-03-28T12:00+08:00), "
                      f"not {value!r}[/]")
        raise typer.Exit(2)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@app.command("export")
def export_command(
    format: str = typer.Option("jsonl", "--format", help="jsonl | csv | parquet"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="File to write (default: stdout; "
                                          "parquet needs a file)."),
    source: Optional[str] = typer.Option(None, help="Only this source."),
    tag: Optional[str] = typer.Option(None, help="Only articles with this tag."),
    since: Optional[str] = typer.Option(None, help="Published at or after (ISO date or date-time; UTC if no offset)."),
    until: Optional[str] = typer.Option(None, help="Published before."),
    story: Optional[int] = typer.Option(None, help="Only the articles of this story id."),
    batch_size: Optional[int] = typer.Option(None, min=1, help="Rows per page / row group (default: settings)."),
) -> None:
    """Export stored articles, with story ids and also-in groups, streamed from the store (constant memory)."""
    from newsagg.export import ExportError, export_articles
    from newsagg.store import ExportFilter, Store

    settings = get_settings()
    flt = ExportFilter(source=source, tag=tag, since=_moment(since, "--since"), until=_moment(until, "--until"),
                       story=story)
    store = Store.from_settings(settings)
    err = Console(stderr=True)
    if source and not store.has_source(source):
        err.print(f"[red]no source named {escape(source)} in the store[/]")
        raise typer.Exit(2)
    try:
        n = export_articles(store, flt, format, output, batch=batch_size or settings.export.batch_size,
                            guard_formulas=settings.export.csv_guard_formulas, stdout=sys.stdout.buffer)
    except ExportError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    err.print(f"exported {n} article(s) as {format}" + (f" to {output}" if output else ""))


@app.command()
def retag(
    batch_size: int = typer.Option(500, min=1, help="Articles read and written per page."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would change; write nothing."),
) -> None:
    """Recompute tags ("about"), entities (mentions) and relevance of stored articles from their stored text."""
    from crawler.retag import retag_store
    from newsagg.store import Store

    with console.status("re-tagging…"):
        stats = retag_store(Store.from_settings(), batch=batch_size, dry_run=dry_run)
    verb = "would change" if dry_run else "changed"
    console.print(f"{stats.articles} article(s) read, {stats.changed} {verb}"
                  + ("" if dry_run or not stats.changed else
                     " — run `newsagg index --rebuild` so related lists use the new tags (nothing is re-embedded)"))


if __name__ == "__main__":
    from newsagg.app.processes import watch_parent

    watch_parent()  # a child of `newsagg schedule`/`up` stops when its parent is killed
    app()
