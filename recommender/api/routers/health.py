"""Probes and metrics: /livez (the process answers), /readyz (store and index loaded), /metrics (Prometheus)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from recommender.api.dependencies import ApiState, get_state
from recommender.api.problems import problem_responses
from recommender.api.responses import index_headers, json_response
from recommender.api.schemas import Liveness, Readiness

router = APIRouter(tags=["operations"])


@router.get("/livez", response_model=Liveness)
async def livez() -> Liveness:
    return Liveness()


@router.get("/readyz", response_model=Readiness, responses=problem_responses(503))
async def readyz(state: Annotated[ApiState, Depends(get_state)]) -> Response:
    """200 once the store and an index snapshot are loaded; 503 (with the reason) until then."""
    state.require_store()
    stamp = state.require_index()
    body = Readiness(model=stamp.model, index_version=stamp.version, index_kind=stamp.kind, articles=stamp.count)
    return json_response(body, index_headers(stamp.model, stamp.version))


@router.get("/metrics", response_class=Response, responses={
    200: {"description": "Prometheus text format", "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}},
})
async def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
