"""What the pages read: the store and the shared RelatedService (st.cache_resource), and cached queries (st.cache_data).

Results reach the pages as small frozen dataclasses, never ORM objects: st.cache_data pickles them, and a page
must never trigger a lazy load on a closed session. Cached queries take the database URL as their first
argument so two stores (tests, a switched NEWSAGG_DATABASE_URL) never share an entry.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import streamlit as st

from newsagg.config import Settings, get_settings
from newsagg.models import Article
from newsagg.refs import ArticleRef
from newsagg.store import ArticleFilter, Store
from recommender.service import RelatedService, SearchHit, StoryInfo

# A crawl or an index update shows up within this many seconds, without re-querying on every widget click.
QUERY_TTL = 30


@dataclass(frozen=True)
class ArticleView(ArticleRef):
    """An article as the pages show it: its reference (id, URL, title, outlet, date) and the rest of its fields."""

    updated: datetime | None
    fetched: datetime | None
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    summary: str
    lead_image: str | None
    paywalled: bool
    near_dup_group: int | None
    body: str = ""
    entities: tuple[str, ...] = ()  # companies mentioned (tags are what it is about)

    @classmethod
    def of(cls, a: Article, with_body: bool = False) -> "ArticleView":
        return cls(
            **asdict(ArticleRef.of(a)), updated=a.updated_at, fetched=a.fetched_at, authors=tuple(a.authors or ()),
            tags=tuple(a.tags or ()), summary=a.summary or "", lead_image=a.lead_image, paywalled=bool(a.paywalled),
            near_dup_group=a.near_dup_group, body=(a.body or "") if with_body else "", entities=tuple(a.entities or ()),
        )


# ---- shared resources -----------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def store_for(database_url: str) -> Store:
    return Store(database_url)


@st.cache_resource(show_spinner="Loading the recommender …")
def _service(settings_key: str, _settings: Settings) -> RelatedService:
    # One service per configuration for every session of this process, as the API holds one: the embedding
    # model and the index load once. The key is the whole settings JSON; the object itself is not hashed.
    return RelatedService(store_for(_settings.database_url), _settings)


def database_url() -> str:
    return get_settings().database_url


def store() -> Store:
    return store_for(database_url())


def service() -> RelatedService:
    settings = get_settings()
    return _service(settings.model_dump_json(), settings)


# ---- articles -------------------------------------------------------------------------------------------
@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def latest_articles(db: str, flt: ArticleFilter) -> list[ArticleView]:
    """Newest first, as Store.list_articles selects them."""
    return [ArticleView.of(a) for a in store_for(db).list_articles(flt)]


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def article(db: str, article_id: int) -> ArticleView | None:
    a = store_for(db).get_article(article_id, with_raw_html=False)
    return ArticleView.of(a, with_body=True) if a is not None else None


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def articles_by_ids(db: str, ids: tuple[int, ...]) -> dict[int, ArticleView]:
    return {i: ArticleView.of(a) for i, a in store_for(db).articles_by_ids(list(ids)).items()}


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def copies_of(db: str, article_id: int, group: int | None) -> list[ArticleView]:
    """Syndicated copies: the other members of the article's near-duplicate group."""
    if group is None:
        return []
    return [ArticleView.of(a) for a in store_for(db).group_members(group) if a.id != article_id]


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def source_names(db: str) -> list[str]:
    return [src.name for src, count, _ in store_for(db).sources() if count]


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def popular_tags(db: str, window: int = 2000, top: int = 60) -> list[str]:
    """The most used tags among the newest `window` articles (the tag filter's choices)."""
    return [t for t, _ in store_for(db).tag_counts(newest=window).most_common(top)]


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def article_count(db: str) -> int:
    return store_for(db).count_articles()


# ---- recommender ----------------------------------------------------------------------------------------
def search(query: str, mode: str, limit: int) -> list[SearchHit]:
    """Keyword/semantic/hybrid search through the shared service (not cached: the service is fast and fresh)."""
    return service().search(query, mode=mode, limit=limit)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def stories(db: str, min_size: int, limit: int) -> list[StoryInfo]:
    return service().stories(min_size=min_size, limit=limit)


def story(story_id: int) -> StoryInfo | None:
    return service().story_by_id(story_id)

