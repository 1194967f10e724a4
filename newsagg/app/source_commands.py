"""What `newsagg sources add` and `newsagg sources check` print and write (the CLI's thin commands call these)."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from crawler.registry import Registry, RegistryError
from newsagg.config import Settings
from newsagg.urls import is_http_url

VERDICT_STYLE = {"ok": "green", "degraded": "yellow", "broken": "red"}


def _documents_table(title: str, documents) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("url", overflow="fold")  # URLs wrap whole instead of being cut off in narrow terminals
    for column in ("found by", "status", "entries", "newest"):
        table.add_column(column)
    table.add_column("result", overflow="fold")
    for d in documents:
        hops = f" → {d.final_url} ({', '.join(str(s) for s, _ in d.redirects)})" if d.redirects else ""
        result = "[green]ok[/]" if d.ok else f"[red]{escape(d.problem or '')}[/] {escape(d.detail)}"
        kind = " (index)" if d.is_index else ""
        kind += " (news)" if d.is_news else ""
        table.add_row(escape(d.url + hops), d.origin + kind, str(d.status or "-"), str(d.entries),
                      f"{d.newest:%Y-%m-%d %H:%M}" if d.newest else "-", result)
    return table


def _print_sample(console: Console, sample) -> None:
    if sample is None:
        return
    if sample.url is None:
        console.print("sample article: [red]no article URL to try[/]")
        return
    state = "[green]ok[/]" if sample.ok else f"[red]{sample.problem}[/]"
    console.print(f"sample article ({sample.tried} tried): {state} {escape(sample.url)}")
    console.print(f"  title: {escape(sample.title) or '-'} · date: {sample.published or '-'} · "
                  f"author: {escape(', '.join(sample.authors)) or '-'} · body: {sample.body_words} words")


def add_source(url: str, registry_path: Path, settings: Settings, console: Console, *,
               name: str | None = None, dry_run: bool = False) -> int:
    """Discover, verify and append one source; 0 when added, 1 when it could not be verified, 2 on bad input."""
    from crawler.sources.discover import discover
    from crawler.sources.edit import append_source, entry_of
    from crawler.sources.fetch import run_probes

    if not is_http_url(url):
        console.print(f"[red]not an http(s) URL: {escape(url)}[/]")
        return 2
    try:
        registry = Registry.load(registry_path) if registry_path.exists() else Registry()
    except RegistryError as exc:
        console.print(f"[red]{escape(str(exc))}[/]")
        return 2
    host = urlsplit(url).netloc.lower().removeprefix("www.")
    if same := [s.name for s in registry if urlsplit(s.homepage).netloc.lower().removeprefix("www.") == host]:
        console.print(f"[yellow]{escape(host)} is already in {registry_path} as {', '.join(same)}; "
                      f"`newsagg sources check {same[0]}` checks it[/]")
        return 1
    if name and name in registry:
        console.print(f"[red]a source named {name!r} already exists in {registry_path}[/]")
        return 2
    taken = {s.name for s in registry}
    try:
        [found] = run_probes([lambda fetcher: discover(fetcher, url, settings, taken, name)])
    except ValidationError as exc:
        console.print(f"[red]invalid source: {escape(str(exc))}[/]")
        return 2
    if isinstance(found, BaseException):
        console.print(f"[red]discovery failed: {escape(repr(found))}[/]")
        return 1
    _print_discovery(console, found)
    if found.spec is None:
        console.print(f"[red]not added: {escape('; '.join(found.problems))}[/] — nothing written to {registry_path}")
        return 1
    entry = "\n".join(f"  {k} = {json.dumps(v, default=str)}" for k, v in entry_of(found.spec).items())
    if dry_run:
        console.print(f"[green]verified[/] (dry run, nothing written):\n{escape(entry)}")
        return 0
    append_source(registry_path, found.spec, comment=f"added by `newsagg sources add` on {date.today()}")
    console.print(f"[green]added {found.spec.name!r} to {registry_path}[/]:\n{escape(entry)}\n"
                  f"next: newsagg crawl --sources {found.spec.name}")
    return 0


def _print_discovery(console: Console, found) -> None:
    home = found.homepage
    console.print(f"homepage: {escape(home.url)} · title: {escape(home.title) or '-'} · "
                  f"language: {home.language or '-'}")
    if found.feeds:
        console.print(_documents_table("feeds", found.feeds))
    if found.sitemaps:
        console.print(_documents_table("sitemaps", found.sitemaps))
    if found.sample is not None:
        _print_sample(console, found.sample)
        console.print(f"timezone hint: {found.timezone} ({found.timezone_reason})")


def check_sources(names: list[str] | None, registry_path: Path, settings: Settings, console: Console, *,
                  fix: bool = False, as_json: bool = False) -> int:
    """Check the named (default: all) sources; 1 when any is broken, 2 on a bad registry or name."""
    from crawler.sources.check import SourceCheck, check_source
    from crawler.sources.fetch import run_probes

    try:
        chosen = Registry.load(registry_path).select(names)
    except RegistryError as exc:
        console.print(f"[red]{escape(str(exc))}[/]")
        return 2
    jobs = [lambda fetcher, spec=spec: check_source(fetcher, spec, settings) for spec in chosen]
    results = []
    for spec, outcome in zip(chosen, run_probes(jobs)):
        if isinstance(outcome, BaseException):  # a bug must not hide the other sources' results
            outcome = SourceCheck(spec.name, spec.homepage, reasons=[f"check failed: {outcome!r}"])
        results.append(outcome)
        if as_json:
            sys.stdout.write(json.dumps(outcome.to_json(), ensure_ascii=False) + "\n")
        else:
            _print_check(console, outcome)
    if fix:
        _apply_fixes(results, chosen, registry_path, console, quiet=as_json)
    return 1 if any(r.verdict == "broken" for r in results) else 0


def _print_check(console: Console, result) -> None:
    style = VERDICT_STYLE.get(result.verdict, "red")
    last = f"last verified {result.verified_on}" if result.verified_on else "never verified"
    console.rule(f"[bold]{result.name}[/] [{style}]{result.verdict}[/] · checked {result.checked_on} · {last}")
    if result.documents:
        console.print(_documents_table("feeds and sitemaps", result.documents))
    _print_sample(console, result.sample)
    for reason in result.reasons:
        console.print(f"  [{style}]- {escape(reason)}[/]")


def _apply_fixes(results, chosen, registry_path: Path, console: Console, quiet: bool) -> None:
    """Moved feeds rewritten; sources that passed marked verified today. Broken sources are left as they are."""
    specs = {s.name: s for s in chosen}
    changes = {}
    for result in results:
        if result.verdict == "broken":
            continue
        spec = specs[result.name]
        fields = {"verified": True, "verified_on": result.checked_on}
        if result.replacements:
            fields["feeds"] = list(dict.fromkeys(result.replacements.get(u, u) for u in spec.feeds))
        changes[result.name] = fields
    from crawler.sources.edit import update_sources

    changed = update_sources(registry_path, changes) if changes else []
    if not quiet:
        for name in changed:
            moved = "feeds rewritten, " if "feeds" in changes[name] else ""
            console.print(f"[green]{name}: {moved}verified on {changes[name]['verified_on']}[/]")
