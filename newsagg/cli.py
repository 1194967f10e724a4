"""`newsagg` — the command line: crawl · sources · runs · demo-sites · demo (more as the product grows)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from newsagg.config import get_settings

app = typer.Typer(help="newsagg: tech & automotive news aggregator.", no_args_is_help=True)
sources_app = typer.Typer(help="The source registry: list, import/export OPML.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
console = Console()


def _split(names: Optional[str]) -> list[str] | None:
    return [n.strip() for n in names.split(",") if n.strip()] if names else None


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
    quiet: bool = typer.Option(False, help="No live progress, only the summary."),
) -> None:
    """Crawl feeds and sitemaps of the registry's sources into the store."""
    from crawler.registry import Registry, RegistryError
    from crawler.run import run_crawl

    try:
        chosen = Registry.load(registry or get_settings().crawl.sources_file).select(_split(sources))
    except RegistryError as exc:
        console.print(f"[red]{exc}[/]")
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
        result = run_crawl(sources=_split(sources), registry=str(registry) if registry else None,
                           max_age_days=max_age_days, group=group, on_tick=None if quiet else tick)
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

    table = Table("id", "group", "status", "started", "seconds", "new", "skipped")
    for run in Store.from_settings().runs(limit):
        seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
        table.add_row(str(run.id), run.group or "-", run.status, f"{run.started_at:%Y-%m-%d %H:%M:%S}",
                      f"{seconds:.1f}" if seconds is not None else "-", str(run.stats.get("new", 0)),
                      str(sum(run.skips.values())))
    console.print(table)


@sources_app.command("list")
def sources_list(registry: Optional[Path] = typer.Option(None)) -> None:
    """Show the registry's sources."""
    from crawler.registry import Registry

    table = Table("name", "title", "feeds", "sitemaps", "verified")
    for s in Registry.load(registry or get_settings().crawl.sources_file).sources:
        table.add_row(s.name, s.title, str(len(s.feeds)), str(len(s.sitemaps)), "yes" if s.verified else "no")
    console.print(table)


@sources_app.command("import")
def sources_import(opml: Path, into: Optional[Path] = typer.Option(None, help="Registry to add to.")) -> None:
    """Add the feeds of an OPML file to a registry (appended, existing comments kept)."""
    from crawler.registry import Registry, RegistryError, import_opml, merge

    target = into or get_settings().crawl.sources_file
    try:
        registry = Registry.load(target)
        added, skipped = merge(registry, import_opml(opml))
    except RegistryError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    if added:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write("\n" + Registry(added).dumps())
    console.print(f"added {len(added)} source(s), {len(skipped)} already present")


@sources_app.command("export")
def sources_export(out: Optional[Path] = typer.Option(None), registry: Optional[Path] = typer.Option(None)) -> None:
    """Write the registry's feeds as OPML (stdout by default)."""
    from crawler.registry import Registry, export_opml

    text = export_opml(Registry.load(registry or get_settings().crawl.sources_file).sources)
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


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


def demo_env() -> dict[str, str]:
    """Settings for crawling the local demo sites: private addresses allowed, no age limit, short delays."""
    return {
        **os.environ,
        "NEWSAGG_CRAWL__ALLOW_PRIVATE_HOSTS": "true",
        "NEWSAGG_CRAWL__MAX_AGE_DAYS": "0",
        "NEWSAGG_CRAWL__DOWNLOAD_DELAY": "0.05",
    }


@app.command()
def demo(serve: bool = typer.Option(True, help="Keep the demo sites running at the end.")) -> None:
    """The main job on the bundled demo sites: serve them, crawl them into the store, summarise."""
    from newsagg.demo.server import DemoSites

    settings = get_settings()
    with DemoSites() as sites:
        registry, _ = sites.write_files(settings.data_dir / "demo")
        console.rule("[bold]1. crawl the demo news sites")
        code = subprocess.call([sys.executable, "-m", "newsagg.cli", "crawl", "--registry", str(registry)],
                               env=demo_env())
        if code != 0:
            raise typer.Exit(code)
        console.print(f"Store: {settings.database_url}")
        if serve:
            console.rule("[bold]demo sites still running")
            for outlet in sites.ports:
                console.print(f"{outlet:>15}: {sites.base_url(outlet)}/")
            console.print("Ctrl-C to stop.")
            _wait_forever()


if __name__ == "__main__":
    app()
