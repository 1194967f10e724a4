"""Building blocks every page uses: links to the Article and Stories pages, article cards, dates.

Every article link in the app goes through `article_link`, so all of them open the Article page with its deep
link (?article=<id>) and all titles are escaped the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import streamlit as st

from dashboard.safe_text import md_escape, shorten
from newsagg.refs import ArticleRef

# Page scripts, relative to app.py (st.page_link / st.switch_page resolve them against the entry point).
LATEST_PAGE = "views/latest.py"
ARTICLE_PAGE = "views/article.py"
STORIES_PAGE = "views/stories.py"


def fmt_time(when: datetime | None, with_time: bool = True) -> str:
    if when is None:
        return "undated"
    return when.strftime("%Y-%m-%d %H:%M UTC" if with_time else "%Y-%m-%d")


def article_link(article_id: int, title: str, *, icon: str | None = None, bold: bool = False) -> None:
    """A link that opens the Article page for this article."""
    label = md_escape(title) or f"Article {article_id}"
    label = f"**{label}**" if bold else label  # safe: the escaped title cannot close the emphasis early
    st.page_link(ARTICLE_PAGE, label=label, icon=icon or "", help="", query_params={"article": str(article_id)})


def outlet_link(ref: ArticleRef, *, icon: str | None = None) -> None:
    """A link to an article labelled "outlet: title" (copies and story members, where the outlet is the point)."""
    article_link(ref.article_id, f"{ref.source}: {ref.title}", icon=icon)


def story_link(story_id: int, label: str) -> None:
    st.page_link(STORIES_PAGE, label=md_escape(label) or f"Story {story_id}", icon=":material/newspaper:",
                 help="", query_params={"story": str(story_id)})


def meta_caption(parts: Iterable[str | None]) -> None:
    """One caption line of escaped parts, joined by middle dots."""
    st.caption(" · ".join(md_escape(p) for p in parts if p))


def tag_line(tags: Iterable[str], limit: int = 8) -> str | None:
    tags = list(tags)[:limit]
    return ", ".join(f"#{t}" for t in tags) if tags else None


def article_card(a, *, extra: str | None = None, summary_chars: int = 320) -> None:
    """Title (link), source · date · tags, and the start of the summary, in a bordered box."""
    with st.container(border=True):
        article_link(a.article_id, a.title, bold=True)
        meta_caption([a.source, fmt_time(a.published), "paywalled" if a.paywalled else None, extra,
                      tag_line(a.tags)])
        if a.summary:
            st.text(shorten(a.summary, summary_chars))


def open_selected_article(event) -> None:
    """When a chart point (customdata[0] = article id) was clicked, open that article."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    for point in points:
        custom = point.get("customdata")
        if custom:
            st.switch_page(ARTICLE_PAGE, query_params={"article": str(int(custom[0]))})
