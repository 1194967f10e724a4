"""GET /sources: the publishers in the store, with article counts and the last fetch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from recommender.api.dependencies import ApiState, store_ready
from recommender.api.problems import problem_responses
from recommender.api.schemas import SourceList, SourceOut

router = APIRouter(tags=["sources"])


@router.get("/sources", response_model=SourceList, responses=problem_responses(503))
def list_sources(state: Annotated[ApiState, Depends(store_ready)]) -> SourceList:
    """Every source with at least a name in the store, by name."""
    return SourceList(items=[
        SourceOut(name=src.name, homepage=src.homepage, language=src.language, articles=count, last_fetched=last)
        for src, count, last in state.store.sources()
    ])
