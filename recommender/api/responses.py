"""Shared pieces of routes: parameter types (bounds from the settings, so the OpenAPI schema states them),
the index stamp headers, and encoded JSON responses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from fastapi.responses import Response
from pydantic import BaseModel

from recommender.api.schemas import MAX_ID

ArticleId = Annotated[int, Path(ge=1, le=MAX_ID, description="Article id (as in /articles).")]
MinScore = Annotated[float | None, Query(ge=0.0, le=1.0, description="Leave out results scoring below this.")]
PageUrl = Annotated[str, Query(min_length=1, max_length=2000,
                               description="The article's page URL; tracking parameters are ignored.")]


def limit_param(maximum: int, what: str = "How many results") -> Any:
    """An optional `limit` query parameter bounded by a setting (api.max_limit, api.max_page_size)."""
    return Annotated[int | None, Query(ge=1, le=maximum, description=f"{what}; at most {maximum}.")]


def query_param(maximum: int) -> Any:
    return Annotated[str, Query(min_length=1, max_length=maximum, description="What to look for.")]


def index_headers(model: str, version: int, max_age: int | None = None) -> dict[str, str]:
    headers = {"X-Index-Version": str(version), "X-Model": model}
    if max_age is not None:
        headers["Cache-Control"] = f"public, max-age={max_age}"
    return headers


def json_response(body: BaseModel | bytes, headers: dict[str, str] | None = None) -> Response:
    """Encoded by pydantic-core directly: no second validation pass through the response model."""
    content = body if isinstance(body, bytes) else body.model_dump_json().encode()
    return Response(content, media_type="application/json", headers=headers)
