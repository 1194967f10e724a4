"""Stories: events covered by several articles, with their size, outlets and dates (Google News's "full
coverage"). ?story=<id> shows one story: its timeline by outlet and every article covering it.

A click on a story's bar opens the story; a click on a point of a timeline opens that article.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard import data
from dashboard.cards import STORIES_PAGE, article_card, fmt_time, meta_caption, open_selected_article, story_link
from dashboard.safe_text import hover_escape, md_escape, parse_id
from recommender.service import StoryInfo

LIST_LIMIT = 50


def requested_story() -> int | None:
    return parse_id(st.query_params.get("story", ""))


def outlets(info: StoryInfo) -> list[str]:
    return sorted({m.source for m in info.articles})


def timeline(rows: list[dict], height: int, key: str) -> None:
    """Articles as points in time, one row per outlet (hover: title; click: open it)."""
    frame = pd.DataFrame([r for r in rows if r["published"] is not None])
    if frame.empty:
        st.caption("No dated articles to draw.")
        return
    fig = px.scatter(frame, x="published", y="outlet", color="outlet", hover_name="title", custom_data=["article_id"],
                     hover_data={"published": "|%Y-%m-%d %H:%M", "outlet": True, "article_id": False})
    fig.update_traces(marker={"size": 11, "opacity": 0.85})
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, showlegend=False,
                      yaxis_title=None, xaxis_title=None)
    open_selected_article(st.plotly_chart(fig, on_select="rerun", selection_mode="points", key=key))


def point(m) -> dict:
    return {"article_id": m.article_id, "title": hover_escape(m.title), "outlet": hover_escape(m.source),
            "published": m.published}


def story_page(db: str, story_id: int) -> None:
    info = data.story(story_id)
    if info is None:
        st.error(f"There is no story {story_id} (stories are re-formed when the index is updated).")
        st.page_link(STORIES_PAGE, label="All stories", icon=":material/arrow_back:")
        return
    st.query_params["story"] = str(story_id)  # same-page links leave the address bar as it was (see article.py)
    st.page_link(STORIES_PAGE, label="All stories", icon=":material/arrow_back:")
    st.title(md_escape(info.label) or f"Story {story_id}", anchor=False)
    names = outlets(info)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Articles", info.size)
    c2.metric("Outlets", len(names))
    c3.metric("First seen", fmt_time(info.first_seen, False))
    c4.metric("Last seen", fmt_time(info.last_seen, False))
    undated = sum(m.published is None for m in info.articles)
    meta_caption(["covered by " + ", ".join(names), f"{undated} undated, not on the timeline" if undated else None])
    st.subheader("Timeline", anchor=False)
    timeline([point(m) for m in info.articles], height=120 + 40 * len(names), key="story_timeline")
    st.subheader("Coverage", anchor=False)
    views = data.articles_by_ids(db, tuple(m.article_id for m in info.articles))
    for m in info.articles:  # oldest first: how the event unfolded
        if m.article_id in views:
            article_card(views[m.article_id])


def sizes_chart(found: list[StoryInfo]) -> None:
    """One bar per story, split by outlet: how big each story is and who covers it (click: open the story)."""
    rows = [{"story": f"{hover_escape(info.label, 60)} (#{info.story_id})", "story_id": info.story_id,
             "outlet": hover_escape(m.source)} for info in found for m in info.articles]
    frame = pd.DataFrame(rows).groupby(["story", "story_id", "outlet"], as_index=False).size()
    order = [f"{hover_escape(info.label, 60)} (#{info.story_id})" for info in found]
    fig = px.bar(frame, x="size", y="story", color="outlet", orientation="h", custom_data=["story_id"],
                 category_orders={"story": order}, labels={"size": "articles", "story": ""})
    fig.update_layout(height=140 + 26 * len(found), margin={"l": 10, "r": 10, "t": 10, "b": 10})
    event = st.plotly_chart(fig, on_select="rerun", selection_mode="points", key="stories_sizes")
    for picked in event.get("selection", {}).get("points", []):
        if picked.get("customdata"):
            st.switch_page(STORIES_PAGE, query_params={"story": str(int(picked["customdata"][0]))})


def story_list(db: str) -> None:
    st.title("Stories", anchor=False)
    min_size = st.slider("At least this many articles", 2, 10, 2, key="stories_min_size")
    found = data.stories(db, min_size, LIST_LIMIT)
    if not found:
        st.info("No stories yet. Stories are formed when the index is updated (`newsagg index`).")
        return
    st.caption(f"{len(found)} stories, most recently active first. Click a bar to open its story.")
    sizes_chart(found)
    for info in found:
        with st.container(border=True):
            story_link(info.story_id, info.label)
            names = outlets(info)
            meta_caption([f"{info.size} articles", f"{len(names)} outlets: " + ", ".join(names),
                          f"{fmt_time(info.first_seen, False)} → {fmt_time(info.last_seen, False)}"])


database = data.database_url()
chosen = requested_story()
if chosen is not None:
    story_page(database, chosen)
else:
    story_list(database)
