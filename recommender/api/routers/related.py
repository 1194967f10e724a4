"""Related articles: for a stored article by id or by URL (served from the per-version cache), or for a draft.

The by-id and by-URL routes are async and answer on the event loop: a cache hit is a pre-encoded body; a miss
is two indexed reads (the article's materialized list and its copies) and a greedy walk over the list. Only an
article without a list goes to a worker thread to be ranked live (recommender/api/dependencies.py).
"""

# No `from __future__ import annotations`: see routers/articles.py.
from collections.abc import Sequence
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic_core import to_json

from newsagg.config import ApiSettings
from recommender.api.convert import related_article, versioned
from recommender.api.dependencies import ApiState, index_ready
from recommender.api.problems import invalid, problem_responses
from recommender.api.related_cache import RelatedList
from recommender.api.responses import ArticleId, MinScore, PageUrl, index_headers, json_response, limit_param
from recommender.api.schemas import RelatedResponse, draft_request_model

IndexState = Annotated[ApiState, Depends(index_ready)]
Item = TypeVar("Item")  # RelatedItem (cached lists) or RelatedArticle (drafts): both best first, with a score


def select(items: Sequence[Item], limit: int, min_score: float | None) -> list[Item]:
    """The first `limit` at or above `min_score` (items come best first, so this is a prefix)."""
    if min_score is not None:
        items = [i for i in items if i.score >= min_score]
    return list(items[:limit])


def default_limit(state: ApiState, limit: int | None) -> int:
    return limit if limit is not None else min(state.settings.related.limit, state.limits.max_limit)


_COPY_EXCLUDES = {"__all__": {"title", "published"}}  # an ArticleRef as the Copy schema shows it
_NOT_IN_COPY = {"copies": _COPY_EXCLUDES, "items": {"__all__": {"also_in": _COPY_EXCLUDES}}}


def related_json(entry: RelatedList, limit: int, min_score: float | None) -> bytes:
    """A RelatedResponse body from a cached list, encoded by pydantic-core straight from the service's dataclasses
    (RelatedItem has RelatedArticle's fields in their order; a copy is an ArticleRef less the two fields Copy
    leaves out): the bytes the response model
    would give (tests/api/test_related.py compares them), without building and validating a model per item, which
    was a good part of a cache miss."""
    return to_json({
        "model": entry.model, "index_version": entry.version, "article_id": entry.article_id,
        "items": select(entry.items, limit, min_score), "copies": entry.copies, "limit": limit, "min_score": min_score,
    }, exclude=_NOT_IN_COPY)


def cached_related_response(state: ApiState, entry: RelatedList, limit: int, min_score: float | None) -> Response:
    body = entry.render(("json", limit, min_score), lambda: related_json(entry, limit, min_score))
    return json_response(body, index_headers(entry.model, entry.version, state.limits.cache_max_age))


def build(api: ApiSettings) -> APIRouter:
    router = APIRouter(tags=["related"])
    Limit = limit_param(api.max_limit)
    Draft = draft_request_model(api.max_title_chars, api.max_text_chars, api.max_limit)

    @router.get("/articles/{article_id}/related", response_model=RelatedResponse,
                responses=problem_responses(404, 422, 503))
    async def related_to_article(state: IndexState, article_id: ArticleId, limit: Limit = None,
                                 min_score: MinScore = None) -> Response:
        """Articles related to a stored one; its own copies are in `copies`, a result's copies in `also_in`."""
        limit = default_limit(state, limit)
        return cached_related_response(state, await state.related_list(article_id, limit), limit, min_score)

    @router.get("/related", response_model=RelatedResponse, responses=problem_responses(404, 422, 503))
    async def related_to_url(state: IndexState, url: PageUrl, limit: Limit = None,
                             min_score: MinScore = None) -> Response:
        """Articles related to the stored article at `url` (canonicalised first). Nothing is fetched from it."""
        limit = default_limit(state, limit)
        return cached_related_response(state, await state.related_list_for_url(url, limit), limit, min_score)

    @router.post("/related", response_model=RelatedResponse, responses=problem_responses(400, 413, 422, 503))
    def related_to_draft(state: IndexState, draft: Draft) -> Response:
        """Articles related to a text that is not in the store (a draft), ranked from the title and text given."""
        service = state.service
        try:
            version, items = versioned(service, lambda: service.related(
                title=draft.title, body=draft.text, limit=state.limits.max_limit))
        except ValueError as exc:
            raise invalid("body", str(exc)) from exc
        limit = default_limit(state, draft.limit)
        response = RelatedResponse(
            article_id=None, items=select([related_article(i) for i in items], limit, draft.min_score), copies=[],
            model=service.model_key, index_version=version, limit=limit, min_score=draft.min_score,
        )
        return json_response(response, index_headers(service.model_key, version))

    return router
