"""GET /search: keyword (TF-IDF), semantic (embedding) or hybrid search over the indexed articles."""

# No `from __future__ import annotations`: see routers/articles.py.
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from newsagg.config import ApiSettings
from recommender.api.convert import search_hit, versioned
from recommender.api.dependencies import ApiState, index_ready
from recommender.api.problems import problem_responses
from recommender.api.responses import index_headers, json_response, limit_param, query_param
from recommender.api.schemas import SearchMode, SearchResponse

Mode = Annotated[SearchMode, Query(description="keyword | semantic | hybrid (both, rank-fused).")]


def build(api: ApiSettings) -> APIRouter:
    router = APIRouter(tags=["search"])
    Q = query_param(api.max_query_chars)
    Limit = limit_param(api.max_page_size, "How many results (default 10)")

    @router.get("/search", response_model=SearchResponse, responses=problem_responses(422, 503))
    def search(state: Annotated[ApiState, Depends(index_ready)], q: Q, mode: Mode = "hybrid",
               limit: Limit = None) -> Response:
        """Articles matching a query, one per near-duplicate group, best first."""
        service = state.service
        version, hits = versioned(service, lambda: service.search(q, mode=mode, limit=limit or 10))
        body = SearchResponse(query=q, mode=mode, items=[search_hit(h) for h in hits], model=service.model_key,
                              index_version=version)
        return json_response(body, index_headers(service.model_key, version))

    return router
