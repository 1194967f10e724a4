"""GET /feed.atom and GET /feed.json: the latest stored articles as Atom or JSON Feed 1.1, optionally for one tag
or one source."""

# No `from __future__ import annotations`: see routers/articles.py.
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from newsagg.config import ApiSettings
from newsagg.store import ArticleFilter
from recommender.api.atom import ATOM_MEDIA_TYPE, atom_feed
from recommender.api.dependencies import ApiState, store_ready
from recommender.api.jsonfeed import JSON_FEED_MEDIA_TYPE, json_feed
from recommender.api.problems import problem_responses
from recommender.api.responses import limit_param

Tag = Annotated[str | None, Query(min_length=1, max_length=100, description="Only this topic tag.")]
Source = Annotated[str | None, Query(min_length=1, max_length=100, description="Only this source.")]
# Ids must be permanent and unforgeable: never built from the Host header, which any client sets at will.
TAG_URI = "tag:newsagg,2026:"


def feed_identity(api: ApiSettings, feed_path: str = "/feed.atom", **params: object) -> dict[str, str]:
    """The feed's id and self link and its entries' id prefix: from `api.public_base_url` when configured,
    else tag: URIs and a relative self link. The query is rebuilt from the validated parameters only."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    path = feed_path + (f"?{query}" if query else "")
    if api.public_base_url:
        base = api.public_base_url.rstrip("/")
        return {"self_url": base + path, "feed_id": base + path, "entry_id_prefix": f"{base}/articles/"}
    return {"self_url": path, "feed_id": TAG_URI + path, "entry_id_prefix": TAG_URI + "article:"}


def feed_title(tag: str | None, source: str | None) -> str:
    return "newsagg: latest tech & automotive news" + (f" tagged {tag}" if tag else "") + (
        f" from {source}" if source else "")


FEED_RESPONSES = {
    200: {"description": "Atom 1.0 feed", "content": {ATOM_MEDIA_TYPE: {"schema": {"type": "string"}}}},
    **problem_responses(422, 503),
}
JSON_FEED_RESPONSES = {
    200: {"description": "JSON Feed 1.1", "content": {JSON_FEED_MEDIA_TYPE: {"schema": {"type": "object"}}}},
    **problem_responses(422, 503),
}


def build(api: ApiSettings) -> APIRouter:
    router = APIRouter(tags=["feeds"])
    Limit = limit_param(api.max_page_size, f"Entries (default {api.feed_size})")

    @router.get("/feed.atom", response_class=Response, responses=FEED_RESPONSES)
    def feed(state: Annotated[ApiState, Depends(store_ready)], tag: Tag = None,
             source: Source = None, limit: Limit = None) -> Response:
        """Newest first. Every stored article passed the crawler's tech/auto relevance gate: all are on topic."""
        articles = state.store.list_articles(ArticleFilter(source=source, tag=tag, limit=limit or api.feed_size))
        body = atom_feed(articles, title=feed_title(tag, source),
                         **feed_identity(api, tag=tag, source=source, limit=limit))
        return Response(body, media_type=f"{ATOM_MEDIA_TYPE}; charset=utf-8")

    @router.get("/feed.json", response_class=Response, responses=JSON_FEED_RESPONSES)
    def feed_json(state: Annotated[ApiState, Depends(store_ready)], tag: Tag = None,
                  source: Source = None, limit: Limit = None) -> Response:
        """The same entries as /feed.atom, as JSON Feed 1.1."""
        articles = state.store.list_articles(ArticleFilter(source=source, tag=tag, limit=limit or api.feed_size))
        identity = feed_identity(api, "/feed.json", tag=tag, source=source, limit=limit)
        body = json_feed(articles, title=feed_title(tag, source), feed_url=identity["self_url"], home_page_url=None,
                         item_id_prefix=identity["entry_id_prefix"])
        return Response(body, media_type=f"{JSON_FEED_MEDIA_TYPE}; charset=utf-8")

    return router
