"""Public data types of the extractor: registry overrides in, extracted article out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

@dataclass
class ExtractOverrides:
    """Per-source overrides from the registry."""

    body_selector: str | None = None  # CSS selector of the body container
    drop_selectors: list[str] = field(default_factory=list)


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
