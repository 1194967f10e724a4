"""Crawl health in numbers for the Sources & crawls page: per-source counts, crawl runs, articles per day, and each
source's extraction health per run with the flags of crawler/health.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import streamlit as st

from crawler.health import FIELDS, HealthFlag, health_flags, share
from dashboard.data import QUERY_TTL, store_for
from newsagg.config import get_settings


@dataclass(frozen=True)
class SourceRow:
    name: str
    homepage: str
    articles: int
    last_fetched: datetime | None  # newest article fetched from it
    last_success: datetime | None = None  # end of the newest finished run that crawled it


@dataclass(frozen=True)
class RunRow:
    id: int
    group: str
    status: str
    started: datetime
    finished: datetime | None
    sources: tuple[str, ...]
    stats: dict = field(default_factory=dict)
    skips: dict = field(default_factory=dict)

    @property
    def seconds(self) -> float | None:
        return (self.finished - self.started).total_seconds() if self.finished else None


@dataclass(frozen=True)
class CrawlHealth:
    sources: list[SourceRow]
    runs: list[RunRow]  # newest first


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def crawl_health(db: str, run_limit: int = 50) -> CrawlHealth:
    store = store_for(db)
    runs = [
        RunRow(r.id, r.group or "", r.status, r.started_at, r.finished_at, tuple(r.sources or ()),
               dict(r.stats or {}), dict(r.skips or {}))
        for r in store.runs(run_limit)
    ]
    last_success: dict[str, datetime] = {}
    for run in runs:  # newest first: the first finished run naming a source is its last success
        if run.status == "finished" and run.finished:
            for name in run.sources:
                last_success.setdefault(name, run.finished)
    sources = [
        SourceRow(src.name, src.homepage or "", count, last, last_success.get(src.name))
        for src, count, last in store.sources()
    ]
    return CrawlHealth(sources, runs)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def articles_per_day(db: str, by: str = "published") -> pd.DataFrame:
    """Columns day, source, articles: how many articles each source has per day (published or fetched)."""
    counts = store_for(db).daily_counts(by)
    frame = pd.DataFrame([(day, name, n) for (day, name), n in counts.items()],
                         columns=["day", "source", "articles"])
    return frame.sort_values(["day", "source"]).reset_index(drop=True)


def runs_frame(runs: list[RunRow]) -> pd.DataFrame:
    """One row per run: the counters the crawl summary prints, and the total skipped."""
    return pd.DataFrame(
        [
            {
                "run": r.id, "group": r.group or "-", "status": r.status, "started": r.started,
                "seconds": round(r.seconds, 1) if r.seconds is not None else None,
                "pages": r.stats.get("pages", 0), "new": r.stats.get("new", 0),
                "duplicate": r.stats.get("duplicate", 0), "near_duplicate": r.stats.get("near_duplicate", 0),
                "not_modified": r.stats.get("not_modified", 0), "skipped": sum(r.skips.values()),
                "sources": ", ".join(r.sources),
            }
            for r in runs
        ]
    )


def skips_frame(runs: list[RunRow]) -> pd.DataFrame:
    """Long format (run, reason, pages) for stacked charts of skips by reason."""
    return pd.DataFrame(
        [(f"#{r.id}", reason, n) for r in reversed(runs) for reason, n in sorted(r.skips.items())],
        columns=["run", "reason", "pages"],
    )


@dataclass(frozen=True)
class HealthRow:
    """One run's figures for one source (the fields of newsagg.models.SourceHealth, detached from the session)."""

    run_id: int
    source: str
    pages: int
    stored: int
    missing_body: int
    missing_title: int
    missing_date: int
    missing_author: int
    median_body_words: int
    skips: dict = field(default_factory=dict)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def source_health(db: str, runs: int) -> list[HealthRow]:
    return [HealthRow(r.run_id, r.source, r.pages, r.stored, r.missing_body, r.missing_title, r.missing_date,
                      r.missing_author, r.median_body_words, dict(r.skips or {}))
            for r in store_for(db).source_health(runs=runs)]


def source_health_flags(rows: list[HealthRow]) -> list[HealthFlag]:
    return health_flags(rows, get_settings().health)


def health_frame(rows: list[HealthRow]) -> pd.DataFrame:
    """One row per run and source, oldest run first: shares missing each field, median body, skipped pages."""
    return pd.DataFrame(
        [{"run": f"#{r.run_id}", "source": r.source, "pages": r.pages, "stored": r.stored,
          **{f"missing {what}": round(share(r, what), 3) for what in FIELDS},
          "median body words": r.median_body_words, "skipped": sum(r.skips.values()),
          "skips": ", ".join(f"{k} {v}" for k, v in sorted(r.skips.items()))}
         for r in sorted(rows, key=lambda r: (r.run_id, r.source))],
        columns=["run", "source", "pages", "stored", *(f"missing {w}" for w in FIELDS), "median body words",
                 "skipped", "skips"],
    )
