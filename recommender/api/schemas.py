"""Pydantic models of every request and response body (they are also the OpenAPI schema)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import (
    AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model, field_validator, model_validator,
)

# Ids are SQL BIGINTs: larger numbers would overflow the driver (a 500) instead of simply not existing.
MAX_ID = 2**63 - 1


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339(value: object) -> object:
    """Only what the schema promises (an RFC 3339 date-time), not pydantic's other readings such as unix numbers."""
    if isinstance(value, str):
        if not _RFC3339.match(value):
            raise ValueError("an RFC 3339 date-time is required, e.g. 2025-03-17T08:00:00Z")
        if value[17:19] == "60":  # a leap second: datetime has none, the second before it will do
            value = value[:17] + "59" + value[19:]
    return value


def _to_utc(value: datetime) -> datetime:
    """Naive timestamps are read as UTC (the store keeps UTC); out-of-range ones are a validation error."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except (OverflowError, ValueError) as exc:
        raise ValueError("timestamp out of range") from exc


def _encodable(value: str) -> str:
    """Lone surrogates (possible in JSON \\u escapes) cannot reach the database or the model."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text is not valid Unicode") from exc
    return value


UtcDatetime = Annotated[datetime, BeforeValidator(_rfc3339), AfterValidator(_to_utc)]
CleanStr = Annotated[str, AfterValidator(_encodable)]


class Copy(BaseModel):
    """The same story elsewhere: a near-duplicate (syndicated) copy of an article."""

    model_config = ConfigDict(from_attributes=True)  # read from an ArticleRef (newsagg/refs.py)

    article_id: int
    url: str
    source: str


class IndexStamped(BaseModel):
    """Responses that depend on the index say which model and snapshot answered them."""

    model: str = Field(description="Embedding model of the index that answered.")
    index_version: int = Field(description="Index snapshot version that answered.")


# ---- articles --------------------------------------------------------------------------------------
class ArticleSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    title: str
    source: str = Field(validation_alias="source_name")
    published_at: datetime | None
    fetched_at: datetime | None
    authors: list[str]
    tags: list[str] = Field(description="What the article is about: companies and themes (and the publisher's tags).")
    entities: list[str] = Field(default_factory=list, description="Every company the article mentions, most "
                                "salient first; a mention in passing is an entity, not a tag.")
    language: str | None
    lead_image: str | None
    summary: str
    paywalled: bool


class ArticleDetail(ArticleSummary):
    updated_at: datetime | None
    relevance: float
    near_dup_group: int | None
    copies: list[Copy] = Field(default_factory=list, description="Near-duplicate copies in other places.")


class ArticlePage(BaseModel):
    items: list[ArticleSummary]
    next_cursor: int | None = Field(description="Pass as `cursor` for the next (older) page; null on the last.")


class ArticleRefOut(BaseModel):
    """An article in a result list (related, search, a story's members): the service's ArticleRef, as JSON."""

    model_config = ConfigDict(from_attributes=True)

    article_id: int
    url: str
    title: str
    source: str
    published: datetime | None


# ---- related ---------------------------------------------------------------------------------------
class RelatedArticle(ArticleRefOut):
    score: float = Field(description="Fused similarity (embedding + words + names), 0..1.")
    reason: str = Field(description="What the two articles share, in words.")
    also_in: list[Copy] = Field(default_factory=list, description="Copies of this result, not listed separately.")


class RelatedResponse(IndexStamped):
    article_id: int | None = Field(description="The article asked about (null for a draft).")
    items: list[RelatedArticle]
    copies: list[Copy] = Field(description="Copies of the article asked about (never among the items).")
    limit: int
    min_score: float | None


class DraftRequest(BaseModel):
    """An article not in the store (e.g. a draft): its text only; nothing is fetched from anywhere.

    The length and limit bounds are the configured ones (see `draft_request_model`)."""

    # "a title or a text" stated in the schema as well, in the same terms as the check below (non-empty)
    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [
        {"required": ["title"], "properties": {"title": {"minLength": 1}}},
        {"required": ["text"], "properties": {"text": {"minLength": 1}}},
    ]})

    title: CleanStr = ""
    text: CleanStr = ""
    limit: int | None = Field(default=None, ge=1)
    min_score: float | None = Field(default=None, ge=0.0, le=1.0)

    @field_validator("limit", "min_score", mode="before")
    @classmethod
    def _json_number(cls, value: object) -> object:
        """A JSON number, as the schema says: lax parsing would also read `false` as 0 and "5" as 5 (5.0 for an
        integer is right though: JSON Schema counts it as one)."""
        if isinstance(value, (bool, str)):
            raise ValueError("a JSON number is required")
        return value

    @model_validator(mode="after")
    def _has_text(self) -> "DraftRequest":
        if not (self.title or self.text):
            raise ValueError("give a title or a text")
        return self


def draft_request_model(max_title: int, max_text: int, max_limit: int) -> type[DraftRequest]:
    """DraftRequest with the configured bounds, so that they are in the OpenAPI schema too."""
    return create_model(
        "DraftRequest", __base__=DraftRequest, __doc__=DraftRequest.__doc__,
        title=(CleanStr, Field(default="", max_length=max_title)),
        text=(CleanStr, Field(default="", max_length=max_text)),
        limit=(int | None, Field(default=None, ge=1, le=max_limit, description="How many results.")),
    )


# ---- search ----------------------------------------------------------------------------------------
SearchMode = Literal["keyword", "semantic", "hybrid"]


class SearchHitOut(ArticleRefOut):
    score: float


class SearchResponse(IndexStamped):
    query: str
    mode: SearchMode
    items: list[SearchHitOut]


# ---- stories ---------------------------------------------------------------------------------------
class StoryArticleOut(ArticleRefOut):
    """A member of a story."""


class StorySummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    story_id: int
    label: str = Field(description="Title of the story's most central article.")
    label_article_id: int | None
    size: int
    first_seen: datetime | None
    last_seen: datetime | None


class StoryDetail(StorySummary, IndexStamped):
    articles: list[StoryArticleOut]


class StoryList(IndexStamped):
    items: list[StorySummary]


# ---- sources, health -------------------------------------------------------------------------------
class SourceOut(BaseModel):
    name: str
    homepage: str
    language: str | None
    articles: int
    last_fetched: datetime | None


class SourceList(BaseModel):
    items: list[SourceOut]


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    model: str
    index_version: int
    index_kind: str
    articles: int = Field(description="Articles in the loaded index.")


# ---- problems (RFC 9457) ---------------------------------------------------------------------------
class FieldProblem(BaseModel):
    field: str = Field(description="Where: query.limit, path.article_id, body.text …")
    message: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details (application/problem+json)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldProblem] | None = Field(default=None, description="Invalid fields (422 only).")
