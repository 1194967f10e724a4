"""`newsagg prune`: what the store stops keeping after a while — seen-set rows, crawl runs, raw HTML — counted
first, removed only when asked (the retention periods are `[retention]` settings). Vectors of retired models are
the recommender's rows: recommender/vectors.py names those; `Store.prune` removes both in one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from newsagg.config import RetentionSettings
from newsagg.models import Article, CrawlRun, SeenUrl, utcnow
from newsagg.store import PruneTarget


def targets(retention: RetentionSettings, now: datetime | None = None) -> list[PruneTarget]:
    """What the settings retire now among the store's own rows; a kind kept forever (0 days) is left out."""
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
    return out
