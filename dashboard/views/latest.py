"""Latest: the newest articles, filtered by source, tag and date range, or found by keyword / semantic search.

Filters live in the URL too (?source=…&tag=…&q=…&mode=…), so a filtered view can be bookmarked or shared.
Browsing and keyword search page through the store with its (published_at, id) cursor; semantic and hybrid
search rank through the shared RelatedService and page through its top hits.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import date, datetime, time, timedelta, timezone

import streamlit as st

from dashboard import data
from dashboard.cards import article_card
from newsagg.store import ArticleFilter

PAGE_SIZES = [10, 20, 50]
SEARCH_POOL = 200  # semantic/hybrid: filters apply to this many top hits
MODES = {"keyword": "Keyword", "semantic": "Semantic", "hybrid": "Hybrid"}
ANY = "All"


@dataclass(frozen=True)
class Filters:
    source: str | None
    tag: str | None
    since: datetime | None
    until: datetime | None
    query: str
    mode: str
    per_page: int


def _from_url(key: str, param: str, allowed: list[str] | None = None) -> None:
    """Seed a widget from the URL on the first run of the page (later runs keep what the user chose)."""
    value = st.query_params.get(param)
    if key not in st.session_state and value and (allowed is None or value in allowed):
        st.session_state[key] = value


def _day_bounds(days) -> tuple[datetime | None, datetime | None]:
    """The date input's (start, end) as UTC datetimes; end is exclusive (the next midnight)."""
    days = [d for d in (days or ()) if isinstance(d, date)]
    if not days:
        return None, None
    start = datetime.combine(days[0], time.min, tzinfo=timezone.utc)
    end = datetime.combine(days[-1], time.min, tzinfo=timezone.utc) + timedelta(days=1)
    return start, end


def filter_bar(db: str) -> Filters:
    sources = [ANY, *data.source_names(db)]
    tags = [ANY, *data.popular_tags(db)]
    _from_url("latest_q", "q")
    _from_url("latest_mode", "mode", list(MODES))
    _from_url("latest_source", "source", sources)
    _from_url("latest_tag", "tag", tags)
    st.session_state.setdefault("latest_mode", "keyword")
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    query = left.text_input("Search", key="latest_q", placeholder="words in the article, or a question")
    mode = right.segmented_control(
        "Search mode", list(MODES), format_func=MODES.get, key="latest_mode",
        help="Keyword: the exact words in title or body, newest first. Semantic: closest in meaning. "
        "Hybrid: both, fused.",
    ) or "keyword"
    c1, c2, c3, c4 = st.columns([3, 3, 3, 1])
    source = c1.selectbox("Source", sources, key="latest_source")
    tag = c2.selectbox("Tag", tags, key="latest_tag")
    since, until = _day_bounds(c3.date_input("Published between", value=[], key="latest_dates"))
    per_page = c4.selectbox("Per page", PAGE_SIZES, index=1, key="latest_per_page")
    picked = {"q": query.strip(), "mode": mode if mode != "keyword" else "",
              "source": source if source != ANY else "", "tag": tag if tag != ANY else ""}
    st.query_params.from_dict({k: v for k, v in picked.items() if v})
    return Filters(source if source != ANY else None, tag if tag != ANY else None, since, until,
                   query.strip(), mode, per_page)


def _pager(filters: Filters) -> dict:
    """Pagination state, reset whenever the filters change: page number and the store cursor of each page."""
    # a tuple, not the dataclass: this script (and so the Filters class) is re-executed on every run, and
    # instances of two runs' classes never compare equal
    signature = astuple(filters)
    state = st.session_state.get("latest_pager")
    if state is None or state["filters"] != signature:
        state = {"filters": signature, "page": 0, "cursors": [None]}
        st.session_state["latest_pager"] = state
    return state


def from_store(db: str, f: Filters, pager: dict) -> tuple[list, bool]:
    flt = ArticleFilter(source=f.source, tag=f.tag, since=f.since, until=f.until, q=f.query or None,
                        before_id=pager["cursors"][pager["page"]], limit=f.per_page + 1)
    rows = data.latest_articles(db, flt)
    return [(a, None) for a in rows[: f.per_page]], len(rows) > f.per_page


def from_search(db: str, f: Filters, pager: dict) -> tuple[list, bool]:
    hits = data.search(f.query, f.mode, SEARCH_POOL)
    views = data.articles_by_ids(db, tuple(h.article_id for h in hits))
    matching = []
    for hit in hits:
        a = views.get(hit.article_id)
        if a is None or (f.source and a.source != f.source) or (f.tag and f.tag not in a.tags):
            continue
        if (f.since and (a.published is None or a.published < f.since)) or (
            f.until and (a.published is None or a.published >= f.until)
        ):
            continue
        matching.append((a, f"match {hit.score:.3f}"))
    start = pager["page"] * f.per_page
    return matching[start : start + f.per_page], len(matching) > start + f.per_page


def pagination(pager: dict, shown: list, has_more: bool) -> None:
    def older():
        if pager["page"] + 1 == len(pager["cursors"]):
            pager["cursors"].append(shown[-1][0].article_id)  # the store cursor: the last article of this page
        pager["page"] += 1

    def newer():
        pager["page"] -= 1

    left, mid, right = st.columns([1, 2, 1], vertical_alignment="center")
    left.button("← Newer", on_click=newer, disabled=pager["page"] == 0, key="latest_newer")
    mid.caption(f"Page {pager['page'] + 1}")
    right.button("Older →", on_click=older, disabled=not has_more, key="latest_older")


st.title("Latest", anchor=False)
db = data.database_url()
if data.article_count(db) == 0:
    st.info("No articles yet. Crawl some with `newsagg crawl` (or `make demo`).")
    st.stop()

filters = filter_bar(db)
pager = _pager(filters)
semantic = bool(filters.query) and filters.mode != "keyword"
shown, has_more = (from_search if semantic else from_store)(db, filters, pager)
if not shown:
    if semantic:
        hint = " Semantic search needs the index: run `newsagg index`."
    else:
        hint = " Keyword search matches exact words; try Semantic for a question." if filters.query else ""
    st.info("Nothing matches these filters." + hint)
for article, extra in shown:
    article_card(article, extra=extra)
if shown or pager["page"]:
    pagination(pager, shown, has_more)
