"""Errors as RFC 9457 problem details (application/problem+json): one shape for every failure, never a trace."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from recommender.api.schemas import FieldProblem, Problem

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class ApiProblem(StarletteHTTPException):
    """Raised by routes; rendered as a problem document (an HTTPException so FastAPI passes it through as is)."""

    def __init__(self, status: int, detail: str, *, errors: list[FieldProblem] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(status, detail, headers)
        self.errors = errors


def invalid(field: str, message: str) -> ApiProblem:
    """A 422 naming the offending field, like the framework's own validation errors."""
    return ApiProblem(422, "invalid request parameters",
                      errors=[FieldProblem(field=field, message=message, type="value_error")])


def not_ready(detail: str) -> ApiProblem:
    return ApiProblem(503, detail, headers={"Retry-After": "2"})


def problem_response(request: Request | None, status: int, detail: str | None = None, *,
                     errors: list[FieldProblem] | None = None, headers: dict[str, str] | None = None) -> Response:
    body = Problem(
        title=_title(status), status=status, detail=detail, errors=errors,
        instance=request.url.path if request is not None else None,
    )
    return Response(body.model_dump_json(exclude_none=True), status_code=status, media_type=PROBLEM_JSON,
                    headers=headers)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _field_errors(exc: RequestValidationError) -> list[FieldProblem]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        # the input itself is left out on purpose: it can be large, and echoing it helps nobody
        out.append(FieldProblem(field=".".join(loc) or "request", message=str(err.get("msg", "invalid")),
                                type=str(err.get("type", "value_error"))))
    return out


async def _on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
    detail = exc.detail if isinstance(exc.detail, str) else None
    errors = getattr(exc, "errors", None)
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
    return problem_response(request, exc.status_code, detail, errors=errors, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method some route at this path takes (Starlette names only the first route's: GET of GET+POST).

    Asked through the routes' public `matches()`, which also covers routers included inside routers."""
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


async def _on_validation_error(request: Request, exc: RequestValidationError) -> Response:
    return problem_response(request, 422, "invalid request parameters", errors=_field_errors(exc))


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request, 500, "an unexpected error occurred; it has been logged")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Exception, _on_unexpected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the problem documents a route can return."""
    ref = {"$ref": "#/components/schemas/Problem"}  # `model` registers the component
    return {s: {"model": Problem, "description": _title(s), "content": {PROBLEM_JSON: {"schema": ref}}}
            for s in statuses}
