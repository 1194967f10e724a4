"""From the service's dataclasses and the store's rows to the API's pydantic models."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from newsagg.models import Article
from newsagg.refs import ArticleRef
from recommender.api.schemas import Copy, RelatedArticle, SearchHitOut, StoryArticleOut, StoryDetail, StorySummary
from recommender.service import RelatedItem, RelatedService, SearchHit, StoryInfo

T = TypeVar("T")


def versioned(service: RelatedService, call: Callable[[], T]) -> tuple[int, T]:
    """Run a read and return it with the index version that answered it.

    A snapshot swap can land between reading the version and the read itself; when the version moved, the read
    is repeated once so that the label is right.
    """
    for _ in range(2):
        before = service.version
        result = call()
        if service.version == before:
            return before, result
    return service.version, call()


def related_article(item: RelatedItem) -> RelatedArticle:
    return RelatedArticle.model_validate(item)


def copy_of(article: Article) -> Copy:
    return Copy.model_validate(ArticleRef.of(article))


def search_hit(hit: SearchHit) -> SearchHitOut:
    return SearchHitOut.model_validate(hit)


def story_summary(info: StoryInfo) -> StorySummary:
    return StorySummary.model_validate(info)


def story_detail(info: StoryInfo, model: str, version: int) -> StoryDetail:
    return StoryDetail(**story_summary(info).model_dump(), model=model, index_version=version,
                       articles=[StoryArticleOut.model_validate(a) for a in info.articles])
