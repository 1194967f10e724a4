"""Public data types of the extractor: registry overrides in, extracted article out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Per-source overrides in: the registry's own validated model (a source's `[source.extract]` table), taken as it is.
from crawler.registry.spec import ExtractOverrides

__all__ = ["ExtractOverrides", "ExtractedArticle"]


@dataclass
class ExtractedArticle:
    url: str
    canonical_url: str | None
    amp_url: str | None
    title: str
    authors: list[str]
    published: datetime | None
    updated: datetime | None
    language: str | None
    lead_image: str | None
    summary: str
    body: str
    tags: list[str]
    site_name: str | None
    paywalled: bool
    is_article: bool
    body_source: str
