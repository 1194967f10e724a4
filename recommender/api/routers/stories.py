"""GET /stories and /stories/{id}: articles grouped by event, as the last indexing run assigned them."""

# No `from __future__ import annotations`: see routers/articles.py.
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from newsagg.config import ApiSettings
from recommender.api.convert import story_detail, story_summary, versioned
from recommender.api.dependencies import ApiState, index_ready
from recommender.api.problems import ApiProblem, problem_responses
from recommender.api.responses import index_headers, json_response, limit_param
from recommender.api.schemas import MAX_ID, StoryDetail, StoryList, UtcDatetime

IndexState = Annotated[ApiState, Depends(index_ready)]
Since = Annotated[UtcDatetime | None, Query(description="Active at or after (RFC 3339).")]
MinSize = Annotated[int, Query(ge=1, le=100_000, description="Fewest articles a story must have.")]
StoryId = Annotated[int, Path(ge=1, le=MAX_ID)]


def build(api: ApiSettings) -> APIRouter:
    router = APIRouter(tags=["stories"])
    Limit = limit_param(api.max_page_size, "How many stories (default 20)")

    @router.get("/stories", response_model=StoryList, responses=problem_responses(422, 503))
    def list_stories(state: IndexState, since: Since = None, min_size: MinSize = 2, limit: Limit = None) -> Response:
        """Stories, most recently active first."""
        service = state.service
        version, stories = versioned(service, lambda: service.stories(since=since, min_size=min_size,
                                                                      limit=limit or 20))
        body = StoryList(items=[story_summary(s) for s in stories], model=service.model_key, index_version=version)
        return json_response(body, index_headers(service.model_key, version))

    router.add_api_route("/stories/{story_id}", get_story, methods=["GET"], response_model=StoryDetail,
                         responses=problem_responses(404, 422, 503))
    return router


def get_story(state: IndexState, story_id: StoryId) -> Response:
    """One story with its articles, oldest first."""
    service = state.service
    version, info = versioned(service, lambda: service.story_by_id(story_id))
    if info is None:
        raise ApiProblem(404, f"no story with id {story_id}")
    return json_response(story_detail(info, service.model_key, version), index_headers(service.model_key, version))
