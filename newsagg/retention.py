"""`newsagg prune`: what the store stops keeping after a while — seen-set rows, crawl runs, raw HTML, vectors of
retired models — counted first, removed only when asked (the retention periods are `[retention]` settings)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from newsagg.config import RetentionSettings
from newsagg.models import Article, CrawlRun, Embedding, SeenUrl, utcnow
from newsagg.store import Store


@dataclass(frozen=True)
class PruneTarget:
    """One kind of row past its retention: where it lives, which rows, and whether they go or only lose a column."""

    name: str
    entity: type
    condition: object
    clear_column: str | None = None  # None: delete the rows; else set this column to NULL


def targets(retention: RetentionSettings, current_models: Sequence[str],
            now: datetime | None = None) -> list[PruneTarget]:
    """What the settings retire now; a kind kept forever (0 days, or off) is left out."""
    now = now or utcnow()
    out = []
    if retention.seen_days:
        cutoff = now - timedelta(days=retention.seen_days)
        out.append(PruneTarget("seen URLs (not stored)", SeenUrl,
                               (SeenUrl.seen_at < cutoff) & (SeenUrl.status != "stored")))
    if retention.runs_days:
        out.append(PruneTarget("crawl runs", CrawlRun, CrawlRun.started_at < now - timedelta(days=retention.runs_days)))
    if retention.raw_html_days:
        cutoff = now - timedelta(days=retention.raw_html_days)
        out.append(PruneTarget("raw HTML of articles", Article,
                               (Article.fetched_at < cutoff) & Article.raw_html_z.is_not(None), "raw_html_z"))
    if retention.retired_embeddings:
        keep = sorted({*current_models, *retention.keep_models})
        out.append(PruneTarget("embeddings of retired models", Embedding, Embedding.model.not_in(keep)))
    return out


def prune(store: Store, plan: Sequence[PruneTarget], *, apply: bool) -> dict[str, int]:
    """Rows each target matches; with `apply`, removed (one transaction: all of it or nothing)."""
    counts: dict[str, int] = {}
    with store.session() as s:
        for target in plan:
            counts[target.name] = s.scalar(select(func.count()).select_from(target.entity).where(target.condition))
            if not apply or not counts[target.name]:
                continue
            if target.clear_column is None:
                s.execute(delete(target.entity).where(target.condition))
            else:
                s.execute(update(target.entity).where(target.condition).values({target.clear_column: None}))
    return counts
