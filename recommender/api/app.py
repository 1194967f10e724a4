"""The FastAPI application: routers by resource over one ApiState (store + the shared RelatedService)."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

import newsagg
from newsagg.config import ApiSettings, Settings, get_settings
from recommender.api.dependencies import ApiState
from recommender.api.loader import IndexLoader
from recommender.api.metrics import ApiMetrics
from recommender.api.middleware import BodyLimitMiddleware, MetricsMiddleware
from recommender.api.problems import install_problem_handlers
from recommender.api.routers import articles, feeds, health, related, search, sources, stories, widgets
from recommender.service import RelatedService

DESCRIPTION = """Related articles, search, stories and feeds over the newsagg store.

Ask by article id, by your page's URL, or with the text of a draft. Responses that depend on the index carry
the model and the index version (`model`, `index_version` in the body; `X-Model`, `X-Index-Version` headers).
Errors are RFC 9457 problem documents (`application/problem+json`)."""

INDEX_HEADERS = ["X-Index-Version", "X-Model"]


def body_limit(api: ApiSettings) -> int:
    """Bytes a request body may have: the longest draft, JSON-escaped at worst (6 bytes a character), and slack."""
    return (api.max_text_chars + api.max_title_chars) * 6 + 4096


def create_app(settings: Settings | None = None, service: RelatedService | None = None, *,
               wait_ready: bool = False, ready_timeout: float = 600.0) -> FastAPI:
    """The API app. Pass `service` to share one RelatedService (and its store) with the host process.

    The store and index load in the background after startup (/readyz says when); `wait_ready` makes startup
    wait for them instead (tests).
    """
    settings = settings or get_settings()
    loader = IndexLoader(settings, service)
    state = ApiState(loader)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        loader.start()
        if wait_ready:
            await run_in_threadpool(loader.wait_ready, ready_timeout)
        try:
            yield
        finally:
            await run_in_threadpool(loader.stop)
            state.close()

    app = FastAPI(title="newsagg API", version=newsagg.__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.api = state
    app.state.metrics = ApiMetrics(state)
    install_problem_handlers(app)
    for module in (articles, related, search, stories, feeds, widgets):
        app.include_router(module.build(settings.api))  # bounds from the settings, stated in the schema
    for module in (sources, health):
        app.include_router(module.router)
    # added last = outermost: metrics see every request, including refused bodies and CORS preflights
    if settings.api.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.api.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type"], expose_headers=INDEX_HEADERS, max_age=600)
    app.add_middleware(BodyLimitMiddleware, max_bytes=body_limit(settings.api))
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app
