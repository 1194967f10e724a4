"""Sources & crawls: is the crawl healthy? Per-source counts and last success, each source's extraction health per
run (flagged when it falls away from its own history: a template change), crawl-run history (what each run found,
what it skipped and why), skips by reason and articles per day — charts first, tables below them.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard import data
from dashboard.cards import fmt_time
from dashboard.crawl_stats import (articles_per_day, crawl_health, health_frame, runs_frame, skips_frame,
                                  source_health, source_health_flags)
from newsagg.config import get_settings
from dashboard.safe_text import http_url

CHART_MARGIN = {"l": 10, "r": 10, "t": 30, "b": 10}
RECENT_DAYS = 60


def headline(health) -> None:
    last = health.runs[0] if health.runs else None
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Articles", sum(s.articles for s in health.sources))
    c2.metric("Sources with articles", sum(1 for s in health.sources if s.articles))
    c3.metric("Last run", f"#{last.id} {last.status}" if last else "none",
              help=f"started {fmt_time(last.started)}" if last else None)
    c4.metric("Skipped in last run", sum(last.skips.values()) if last else 0)


def per_source(health) -> None:
    st.subheader("Sources", anchor=False)
    rows = sorted(health.sources, key=lambda s: s.articles)
    fig = px.bar(x=[s.articles for s in rows], y=[s.name for s in rows], orientation="h",
                 labels={"x": "articles", "y": "source"}, title="Articles per source")
    fig.update_layout(height=120 + 26 * len(rows), margin=CHART_MARGIN)
    st.plotly_chart(fig, key="sources_bar")
    st.dataframe(
        [{"source": s.name, "homepage": http_url(s.homepage), "articles": s.articles,
          "last article fetched": s.last_fetched, "last successful run": s.last_success}
         for s in sorted(health.sources, key=lambda s: s.name)],
        column_config={"homepage": st.column_config.LinkColumn("homepage")},
        hide_index=True,
    )


HEALTH_FIGURES = ["missing body", "missing title", "missing date", "missing author", "median body words"]


def health(db: str) -> None:
    st.subheader("Source health", anchor=False)
    rows = source_health(db, get_settings().health.recent_runs)
    if not rows:
        st.caption("No crawl has recorded source health yet.")
        return
    flags = source_health_flags(rows)
    for flag in flags:
        st.warning(flag.message, icon="⚠️")
    if not flags:
        st.success("No source fell away from its own history.")
    figure = st.segmented_control("Figure", HEALTH_FIGURES, default="missing body", key="sources_health_figure")
    frame = health_frame(rows)
    fig = px.line(frame, x="run", y=figure or "missing body", color="source", markers=True,
                  title=f"Source health per run: {figure or 'missing body'}")
    fig.update_layout(height=340, margin=CHART_MARGIN, xaxis_type="category")
    st.plotly_chart(fig, key="sources_health")
    latest = frame.drop_duplicates("source", keep="last").sort_values("source")
    st.dataframe(latest, hide_index=True)


def per_day(db: str) -> None:
    st.subheader("Articles per day", anchor=False)
    by = st.segmented_control("Count by", ["published", "fetched"], default="published", key="sources_per_day_by")
    frame = articles_per_day(db, by or "published")
    if frame.empty:
        st.caption("No dated articles.")
        return
    fig = px.bar(frame, x="day", y="articles", color="source", title=f"Articles per day ({by or 'published'})")
    fig.update_layout(height=380, margin=CHART_MARGIN, bargap=0.1)
    # open on the last RECENT_DAYS days (where crawl health shows); the slider below reaches back further
    last = pd.Timestamp(frame["day"].max())
    fig.update_xaxes(range=[last - pd.Timedelta(days=RECENT_DAYS), last + pd.Timedelta(days=1)],
                     rangeslider_visible=True)
    st.plotly_chart(fig, key="sources_per_day")


def crawl_runs(health) -> None:
    st.subheader("Crawl runs", anchor=False)
    if not health.runs:
        st.info("No crawl has run yet: `newsagg crawl`.")
        return
    runs = runs_frame(health.runs)
    ordered = runs.sort_values("run").assign(run=lambda f: "#" + f["run"].astype(str))
    left, right = st.columns(2)
    found = ordered.melt(id_vars="run", value_vars=["new", "duplicate", "near_duplicate", "skipped"],
                         var_name="outcome", value_name="articles or pages")
    fig = px.bar(found, x="run", y="articles or pages", color="outcome", title="What each run found")
    fig.update_layout(height=340, margin=CHART_MARGIN, xaxis_type="category")
    left.plotly_chart(fig, key="runs_outcomes")
    skips = skips_frame(health.runs)
    if skips.empty:
        right.caption("No page was skipped in these runs.")
    else:
        fig = px.bar(skips, x="run", y="pages", color="reason", title="Skips by reason, per run")
        fig.update_layout(height=340, margin=CHART_MARGIN, xaxis_type="category")
        right.plotly_chart(fig, key="runs_skips")
        totals = skips.groupby("reason", as_index=False)["pages"].sum().sort_values("pages")
        fig = px.bar(totals, x="pages", y="reason", orientation="h", title="Skips by reason, all runs shown")
        fig.update_layout(height=120 + 26 * len(totals), margin=CHART_MARGIN)
        st.plotly_chart(fig, key="skips_total")
    st.dataframe(runs, hide_index=True, column_config={"started": st.column_config.DatetimeColumn(
        "started", format="YYYY-MM-DD HH:mm:ss")})


st.title("Sources & crawls", anchor=False)
database = data.database_url()
crawl = crawl_health(database)
if not crawl.sources and not crawl.runs:
    st.info("Nothing crawled yet. Run `newsagg crawl` (or `make demo`).")
    st.stop()
headline(crawl)
per_source(crawl)
health(database)
per_day(database)
crawl_runs(crawl)
