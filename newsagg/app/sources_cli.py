"""`newsagg sources …`: the source registry — list, add by homepage, check, import and export OPML."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from newsagg.app.terminal import console, split_names
from newsagg.config import get_settings

sources_app = typer.Typer(help="The source registry: list, add by homepage, check, import/export OPML.",
                          no_args_is_help=True)


@sources_app.command("list")
def sources_list(registry: Optional[Path] = typer.Option(None)) -> None:
    """Show the registry's sources."""
    from crawler.registry import Registry

    table = Table("name", "title", "feeds", "sitemaps", "verified")
    for s in Registry.load(registry or get_settings().crawl.sources_file).sources:
        table.add_row(s.name, s.title, str(len(s.feeds)), str(len(s.sitemaps)), "yes" if s.verified else "no")
    console.print(table)


@sources_app.command("add")
def sources_add(
    url: str = typer.Argument(..., help="The publisher's homepage, e.g. https://electrek.co/"),
    registry: Optional[Path] = typer.Option(None, help="Registry to add to (default: settings)."),
    name: Optional[str] = typer.Option(None, help="Source name (default: from the site's name)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Discover and verify, write nothing."),
) -> None:
    """Discover a publisher's feeds and sitemaps from its homepage, verify them with a sample article, append it."""
    from newsagg.app.source_commands import add_source

    settings = get_settings()
    raise typer.Exit(add_source(url, registry or settings.crawl.sources_file, settings, console,
                                name=name, dry_run=dry_run))


@sources_app.command("check")
def sources_check(
    names: Optional[list[str]] = typer.Argument(None, help="Source names (default: all)."),
    registry: Optional[Path] = typer.Option(None, help="Registry to check (default: settings)."),
    fix: bool = typer.Option(False, "--fix", help="Rewrite moved feeds; mark passing sources verified today."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per source on stdout."),
) -> None:
    """Fetch each source's feeds, sitemaps and a sample article; a verdict per source; exit 1 if one is broken."""
    from newsagg.app.source_commands import check_sources

    settings = get_settings()
    split = [n for arg in names or [] for n in split_names(arg) or []] or None
    raise typer.Exit(check_sources(split, registry or settings.crawl.sources_file, settings, console,
                                   fix=fix, as_json=as_json))


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
