"""Article: one article in full (outlet, authors, dates, lead image, summary, body, link to the original) beside
its Related Articles (score and reason), its syndicated copies (Also in) and its story. Deep link ?article=<id>.

Scraped fields are shown as text: st.text for the summary and body, escaped Markdown for the title and captions,
and only http(s) URLs become links or images.
"""

from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.cards import LATEST_PAGE, article_link, fmt_time, meta_caption, outlet_link, story_link, tag_line
from dashboard.safe_text import http_url, md_escape, paragraphs, parse_id

STORY_PREVIEW = 6  # story members listed beside the article; the Stories page lists them all


def show_article(a: data.ArticleView) -> None:
    st.title(md_escape(a.title) or "(untitled)", anchor=False)
    meta_caption([a.source, "by " + ", ".join(a.authors) if a.authors else None])
    meta_caption(["published " + fmt_time(a.published) if a.published else "undated",
                  "updated " + fmt_time(a.updated) if a.updated else None,
                  "fetched " + fmt_time(a.fetched), "paywalled" if a.paywalled else None])
    meta_caption([tag_line(a.tags, limit=20)])
    if a.entities:
        meta_caption(["mentions: " + ", ".join(a.entities[:20])])
    original = http_url(a.url)
    if original:
        st.link_button(f"Read it at {md_escape(a.source) or 'the source'}", original, icon=":material/open_in_new:")
    image = http_url(a.lead_image)
    if image:
        st.image(image, width="stretch")
    if a.summary:
        st.markdown(f"**{md_escape(a.summary)}**")
    body = paragraphs(a.body)
    if body:
        st.text("\n\n".join(body))
    else:
        st.caption("No body text was extracted" + (" (paywalled)." if a.paywalled else "."))


def show_related(a: data.ArticleView) -> None:
    st.subheader("Related articles", anchor=False)
    try:
        items = data.service().related(a.article_id)
    except (KeyError, ValueError) as exc:
        st.warning(f"Related articles are unavailable: {md_escape(str(exc))}")
        return
    if not items:
        indexed = data.service().index_info()["count"]
        st.caption("Nothing close enough." if indexed else "The index is empty: run `newsagg index`.")
    for item in items:
        with st.container(border=True):
            article_link(item.article_id, item.title)
            meta_caption([item.source, fmt_time(item.published, with_time=False), f"score {item.score:.2f}",
                          item.reason])
            if item.also_in:
                meta_caption(["also in " + ", ".join(sorted({c.source for c in item.also_in}))])


def show_copies(db: str, a: data.ArticleView) -> None:
    st.subheader("Also in", anchor=False)
    copies = data.copies_of(db, a.article_id, a.near_dup_group)
    if not copies:
        st.caption("No syndicated copies of this article.")
    for copy in copies:
        outlet_link(copy, icon=":material/content_copy:")


def show_story(a: data.ArticleView) -> None:
    st.subheader("Story", anchor=False)
    info = data.service().story(a.article_id)
    if info is None:
        st.caption("Not assigned to a story yet (stories are formed when the index is updated).")
        return
    if info.size < 2:
        st.caption("No other outlet or article covers this event so far.")
        return
    story_link(info.story_id, info.label)
    outlets = sorted({m.source for m in info.articles})
    meta_caption([f"{info.size} articles", f"{len(outlets)} outlets",
                  f"{fmt_time(info.first_seen, False)} → {fmt_time(info.last_seen, False)}"])
    others = [m for m in info.articles if m.article_id != a.article_id]
    for member in others[:STORY_PREVIEW]:
        outlet_link(member)
    if len(others) > STORY_PREVIEW:
        st.caption(f"… and {len(others) - STORY_PREVIEW} more on the story page")


db = data.database_url()
raw_id = st.query_params.get("article", "").strip()
article_id = parse_id(raw_id)
article = data.article(db, article_id) if article_id is not None else None
if article is None:
    st.title("Article", anchor=False)
    if not raw_id:
        st.info("Open an article from Latest, Stories or the Map.")
    elif article_id is None:
        st.error(f"“{md_escape(raw_id[:40])}” is not an article number: the link is broken.")
    else:
        st.error(f"There is no article {article_id} in the store.")
    st.page_link(LATEST_PAGE, label="Latest articles", icon=":material/schedule:")
    st.stop()

# a link from one article to another opens the same page, and Streamlit then leaves the address bar as it was:
# write the id back so the URL is always this article's deep link
st.query_params["article"] = str(article.article_id)
main, side = st.columns([3, 2], gap="large")
with main:
    show_article(article)
with side:
    show_related(article)
    show_copies(db, article)
    show_story(article)
