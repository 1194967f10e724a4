"""From the service's dataclasses and the store's rows to the API's pydantic models."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from newsagg.models import Article
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
    return RelatedArticle(
        article_id=item.article_id, url=item.url, title=item.title, source=item.source, published=item.published,
        score=item.score, reason=item.reason,
        also_in=[Copy(article_id=c.article_id, url=c.url, source=c.source) for c in item.also_in],
    )


def copy_of(article: Article) -> Copy:
    return Copy(article_id=article.id, url=article.url, source=article.source_name)


def search_hit(hit: SearchHit) -> SearchHitOut:
    return SearchHitOut(article_id=hit.article_id, url=hit.url, title=hit.title, source=hit.source,
                        published=hit.published, score=hit.score)


def story_summary(info: StoryInfo) -> StorySummary:
    return StorySummary(story_id=info.story_id, label=info.label, label_article_id=info.label_article_id,
                        size=info.size, first_seen=info.first_seen, last_seen=info.last_seen)


def story_detail(info: StoryInfo, model: str, version: int) -> StoryDetail:
    return StoryDetail(
        **story_summary(info).model_dump(), model=model, index_version=version,
        articles=[StoryArticleOut(article_id=a.article_id, url=a.url, title=a.title, source=a.source,
                                  published=a.published) for a in info.articles],
    )
