"""ArticleRef: an article as a result list names it (related, search, story members, copies, dashboard cards).

On the ground floor so that the store can hand out references and every floor above can read them; the API's
schemas read these attributes (pydantic `from_attributes`) instead of copying fields by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from newsagg.models import Article


@dataclass(frozen=True)
class ArticleRef:
    """Enough to show and link an article: its id, URL, title, outlet and publication time."""

    article_id: int
    url: str
    title: str
    source: str
    published: datetime | None

    @classmethod
    def of(cls, article: Article) -> "ArticleRef":
        """The reference of a stored article (its source relation must be loaded, as the store's reads do)."""
        return cls(article.id, article.url, article.title or "", article.source_name, article.published_at)
