"""GET /widget/related?url=…: the embeddable "Related Articles" HTML fragment for a page of a known article."""

# No `from __future__ import annotations`: see routers/articles.py.
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from newsagg.config import ApiSettings
from recommender.api.dependencies import ApiState, index_ready
from recommender.api.problems import problem_responses
from recommender.api.responses import MinScore, PageUrl, index_headers, limit_param
from recommender.api.routers.related import default_limit, select
from recommender.api.widget import content_security_policy, legacy_frame_options, related_fragment

WIDGET_RESPONSES = {
    200: {"description": "HTML fragment", "content": {"text/html": {"schema": {"type": "string"}}}},
    **problem_responses(404, 422, 503),
}


def build(api: ApiSettings) -> APIRouter:
    router = APIRouter(tags=["widget"])
    Limit = limit_param(api.max_limit)
    # fixed per process: computed once, not per request
    framing = {"Content-Security-Policy": content_security_policy(api.frame_ancestors),
               "X-Content-Type-Options": "nosniff"}
    if frame_options := legacy_frame_options(api.frame_ancestors):
        framing["X-Frame-Options"] = frame_options

    @router.get("/widget/related", response_class=Response, responses=WIDGET_RESPONSES)
    async def related_widget(state: Annotated[ApiState, Depends(index_ready)], url: PageUrl, limit: Limit = None,
                             min_score: MinScore = None) -> Response:
        """A list of links to embed in a page or an iframe (who may frame it: api.frame_ancestors)."""
        limit = default_limit(state, limit)
        entry = await state.related_list_for_url(url, limit)
        body = entry.render(("html", limit, min_score),
                            lambda: related_fragment(select(entry.items, limit, min_score)).encode())
        headers = {**index_headers(entry.model, entry.version, api.cache_max_age), **framing}
        return Response(body, media_type="text/html; charset=utf-8", headers=headers)

    return router
