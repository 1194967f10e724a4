"""What flows through the item pipelines: one fetched, extracted article and what the pipelines add to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crawler.extract import ExtractedArticle


@dataclass
class ArticleItem:
    source: str
    fetched_url: str  # the URL we requested (before canonicalisation)
    response_url: str  # after redirects
    extracted: ExtractedArticle
    raw_html: str
    # Filled in by the pipelines, in order:
    url: str = ""  # canonical URL (CanonicalUrlPipeline)
    syndicated_of: str | None = None  # canonical URL of the original, for a cross-site rel=canonical
    content_hash: str = ""  # ExactDuplicatePipeline
    minhash: bytes | None = None  # NearDuplicatePipeline
    near_dup_group: int | None = None
    relevance: float = 0.0  # RelevancePipeline
    tags: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    signature: Any = field(default=None, repr=False)  # the body's MinHash, for the near-duplicate index
    article_id: int | None = None  # StorePipeline
