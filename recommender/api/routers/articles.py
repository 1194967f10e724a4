"""GET /articles (filtered, cursor-paginated, newest first) and GET /articles/{id}: straight from the store."""

# No `from __future__ import annotations` in the routers: FastAPI must resolve parameter types defined inside
# `build()` (their bounds come from the settings), which string annotations would hide from it.
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from newsagg.config import ApiSettings
from newsagg.store import ArticleFilter
from recommender.api.convert import copy_of
from recommender.api.dependencies import ApiState, store_ready
from recommender.api.problems import ApiProblem, problem_responses
from recommender.api.responses import ArticleId, limit_param
from recommender.api.schemas import MAX_ID, ArticleDetail, ArticlePage, ArticleSummary, UtcDatetime

StoreState = Annotated[ApiState, Depends(store_ready)]
Name = Annotated[str | None, Query(min_length=1, max_length=100, description="Source name, as in /sources.")]
Tag = Annotated[str | None, Query(min_length=1, max_length=100, description="Topic tag, e.g. `ev`, `xiaomi`.")]
Since = Annotated[UtcDatetime | None, Query(description="Published at or after (RFC 3339).")]
Until = Annotated[UtcDatetime | None, Query(description="Published before (RFC 3339).")]
Cursor = Annotated[int | None, Query(ge=1, le=MAX_ID, description="`next_cursor` of the previous page.")]


def build(api: ApiSettings) -> APIRouter:
    router = APIRouter(tags=["articles"])
    Keyword = Annotated[str | None, Query(min_length=1, max_length=api.max_query_chars,
                                          description="Keyword in the title or body.")]
    PageLimit = limit_param(api.max_page_size, "Page size (default 20)")

    @router.get("/articles", response_model=ArticlePage, responses=problem_responses(404, 422, 503))
    def list_articles(state: StoreState, source: Name = None, tag: Tag = None, since: Since = None,
                      until: Until = None, q: Keyword = None, cursor: Cursor = None,
                      limit: PageLimit = None) -> ArticlePage:
        """Stored articles, newest first; follow `next_cursor` for older ones."""
        limit = limit or 20
        store = state.store
        if cursor is not None and store.article_position(cursor) is None:
            # the store would silently start over from the newest, and a client could page forever
            raise ApiProblem(404, "the cursor's article no longer exists; start again without a cursor")
        rows = store.list_articles(ArticleFilter(source=source, tag=tag, since=since, until=until, q=q,
                                                 ids=keyword_ids(state, q), before_id=cursor, limit=limit))
        return ArticlePage(items=[ArticleSummary.model_validate(a) for a in rows],
                           next_cursor=rows[-1].id if len(rows) == limit else None)

    router.add_api_route("/articles/{article_id}", get_article, methods=["GET"], response_model=ArticleDetail,
                         responses=problem_responses(404, 422, 503))
    return router


def keyword_ids(state, q: str | None) -> list[int] | None:
    """The word index's best matches of `q` (no scan of every body), or None while the index loads (then the
    store's escaped LIKE answers)."""
    if not q or state.stamp is None or state.service is None:
        return None
    return state.service.keyword_ids(q, state.limits.max_keyword_matches)


def get_article(article_id: ArticleId, state: StoreState) -> ArticleDetail:
    """One stored article (metadata and summary; the body stays with its publisher) and its known copies."""
    article = state.store.get_article(article_id, with_raw_html=False)
    if article is None:
        raise ApiProblem(404, f"no article with id {article_id}")
    detail = ArticleDetail.model_validate(article)
    if article.near_dup_group is not None:
        detail.copies = [copy_of(a) for a in state.store.group_members(article.near_dup_group) if a.id != article.id]
    return detail
