"""Recompute the tags, entities and relevance of stored articles from their stored text (`newsagg retag`).

New articles get "about" tags as they are crawled; articles stored before (or before a lexicon edit) keep their
old tags until this runs. It reads keyset pages, so memory stays one page whatever the store's size. Tags that are
not lexicon tags came from the publisher's own keywords and are kept; an article is never dropped here, even when
its new relevance falls below `crawl.min_relevance` (the store keeps what it has).
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.relevance import RelevanceScorer, default_scorer
from crawler.topics import TopicTagger, default_tagger
from newsagg.store import Store


@dataclass
class RetagStats:
    articles: int = 0
    changed: int = 0


def retag_store(store: Store, *, batch: int = 500, tagger: TopicTagger | None = None,
                scorer: RelevanceScorer | None = None, dry_run: bool = False) -> RetagStats:
    """Recompute every article's topics; write the pages whose values changed (unless `dry_run`)."""
    tagger, scorer = tagger or default_tagger(), scorer or default_scorer()
    lexicon_tags = set(tagger.lexicon.kinds)
    stats = RetagStats()
    for page in store.iter_texts(batch):
        updates = []
        for aid, title, summary, body, old_tags, old_entities, old_relevance in page:
            topics = tagger.topics(title or "", summary or "", body or "")
            keywords = [t for t in old_tags or [] if t not in lexicon_tags]
            new = (list(dict.fromkeys(topics.tags + keywords))[:25], topics.entities[:25],
                   scorer.score(title or "", body or "").score)
            if new != (list(old_tags or []), list(old_entities or []), old_relevance):
                updates.append((aid, *new))
        stats.articles += len(page)
        stats.changed += len(updates)
        if not dry_run:
            store.set_topics(updates)
    return stats
