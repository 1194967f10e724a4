"""Stories: articles about the same event, grouped as they arrive.

Each update re-clusters the recent window (new articles, the recent ones, and every member of the stories those
belong to) with average-link on a similarity that mixes the fused pairwise score with shared-nearest-neighbour
overlap. The neighbour term is what separates two events of one topic: they are similar to each other, but their
articles' neighbourhoods barely overlap (dev set, held-out topics: B³-F1 0.88 → 0.94 over plain fused average-link).

A story is one event, so it is bounded in time: dated articles more than `story_max_span_days` apart never share a
story (a cannot-link constraint inside the clustering, so no chain of look-alikes can join them either), and the
story similarity decays with the date gap. Without this, one batch of history (a first crawl, a rebuild) turned a
topic's successive events into one story: Xiaomi's SU7 launch, deliveries, SU7 Ultra and YU7 (15 months) on the demo
news. Story ids stay stable: a cluster keeps the id most of its members already had; closed stories are never
touched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from newsagg.config import RelatedSettings
from newsagg.models import Story, utcnow
from newsagg.refs import ArticleRef
from newsagg.store import Store
from recommender.catalog import Catalog, to_days
from recommender.story_repository import StoryDraft, StoryRepository


@dataclass(frozen=True)
class StoryInfo:
    story_id: int
    label: str
    label_article_id: int | None
    size: int
    first_seen: datetime | None
    last_seen: datetime | None
    articles: list[ArticleRef] = field(default_factory=list)


def apart_pairs(catalog: Catalog, rows: np.ndarray, settings: RelatedSettings) -> np.ndarray:
    """(n, n) bool: both articles are dated and further apart than a story may span (they cannot share one)."""
    days = catalog.days[rows]
    with np.errstate(invalid="ignore"):
        return np.abs(days[:, None] - days[None, :]) > settings.story_max_span_days  # NaN (undated) → False


def story_similarity(
    catalog: Catalog, rows: np.ndarray, settings: RelatedSettings, apart: np.ndarray | None = None, block: int = 1024
) -> np.ndarray:
    """(n, n) similarity in [0, 1]: half fused score, half shared-nearest-neighbour overlap, damped by date gap.

    An event's coverage comes within days, so for stories the fused score halves every `story_half_life_days`
    between dated articles (on top of the ranking's milder decay): a topic's next event a week later scores low.
    Neighbours are taken among time-compatible articles only, and their overlap is measured against the larger
    of the two neighbourhoods (not k), so a small event alone in its week still looks like one.
    """
    n = len(rows)
    fused = np.zeros((n, n), dtype=np.float32)
    for i in range(0, n, block):
        fused[i : i + block] = catalog.fused(catalog.features_of_rows(rows[i : i + block]), rows)
    fused = np.clip((fused + fused.T) / 2, 0.0, 1.0)
    days = catalog.days[rows].astype(np.float32)  # float32 days since 1970: minutes of precision, half the memory
    gap = np.abs(days[:, None] - days[None, :])
    fused *= np.where(np.isnan(gap), np.float32(1.0), np.exp2(-np.nan_to_num(gap) / settings.story_half_life_days))
    if apart is not None:
        fused[apart] = 0.0
    k = min(settings.story_neighbours, n - 1)
    if k <= 0:
        return fused
    others = fused.copy()
    np.fill_diagonal(others, -1.0)
    nn = np.argpartition(-others, k - 1, axis=1)[:, :k]
    adj = np.zeros((n, n), dtype=np.float32)
    adj[np.repeat(np.arange(n), k), nn.ravel()] = 1.0
    adj *= others >= settings.min_score  # weak "neighbours" of a lone article are not evidence
    np.fill_diagonal(adj, 1.0)
    size = adj.sum(axis=1)
    snn = (adj @ adj.T) / np.maximum(size[:, None], size[None, :])
    return 0.5 * fused + 0.5 * snn


# Distance of a cannot-link pair: large enough that an average over any two clusters holding one such pair
# stays above every threshold, so average-link never merges across it (finite: scipy's linkage needs that).
_CANNOT_LINK = 1e12


def cluster_rows(catalog: Catalog, rows: np.ndarray, settings: RelatedSettings) -> list[np.ndarray]:
    """Groups of catalog rows (average-link, distance threshold); singletons included.

    Two dated articles further apart than `story_max_span_days` never end in one group, whatever lies between
    them (average-link alone chains a topic's successive events: SU7 launch → SU7 deliveries → SU7 Ultra …).
    Undated articles carry no such constraint, but cannot bridge either: every dated pair in a group is checked.
    """
    if len(rows) == 0:
        return []
    if len(rows) == 1:
        return [rows]
    apart = apart_pairs(catalog, rows, settings)
    dist = (1.0 - story_similarity(catalog, rows, settings, apart)).astype(np.float64)
    dist[apart] = _CANNOT_LINK
    np.fill_diagonal(dist, 0.0)
    labels = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=settings.story_threshold
    ).fit_predict(np.clip(dist, 0.0, None))
    return [rows[labels == c] for c in np.unique(labels)]


def central_row(catalog: Catalog, rows: np.ndarray) -> int:
    """The member most similar to the others: its title labels the story."""
    if len(rows) <= 2:
        return int(rows[0])
    sims = catalog.fused(catalog.features_of_rows(rows), rows)
    return int(rows[int(np.argmax(sims.sum(axis=1)))])


class StoryBook:
    """Decides the stories (which articles, which id, which label); `StoryRepository` keeps them."""

    def __init__(self, store: Store, settings: RelatedSettings):
        self.store = store
        self.settings = settings
        self.repo = StoryRepository(store)

    def window_rows(self, catalog: Catalog, new_ids: Sequence[int]) -> tuple[np.ndarray, dict[int, int]]:
        """New articles, the recent ones, and every member of the stories those belong to (open stories are
        re-clustered whole, so the span limit holds across updates too); with their current story ids."""
        new_rows = np.asarray([r for i in new_ids if (r := catalog.row(i)) is not None], dtype=np.int64)
        if len(new_rows) == 0:
            return new_rows, {}
        alive = np.nonzero(catalog.alive)[0]
        alive = alive[alive <= new_rows.max()]  # rows arrive in order; later ones belong to a later update
        when = catalog.news_days(alive)
        if np.isfinite(when).any():
            newest = min(np.nanmax(when), to_days(utcnow()) + 1.0)  # a mis-parsed future date must not close all
            recent = alive[~(when < newest - self.settings.story_window_days)]
        else:
            recent = alive
        budget = max(0, self.settings.story_window_max - len(new_rows))
        recent = recent[len(recent) - budget :] if budget else recent[:0]
        rows = np.unique(np.concatenate([recent, new_rows]))
        current = self.repo.assignments_of_articles({catalog.meta[r].article_id for r in rows})
        members = self.repo.assignments_in_stories(set(current.values()))
        extra = [r for a in members if (r := catalog.row(a)) is not None and r <= new_rows.max()]
        rows = np.unique(np.concatenate([rows, np.asarray(extra, dtype=np.int64)]))
        if len(rows) > self.settings.story_window_max:  # keep the new rows and the most recent others
            others = np.setdiff1d(rows, new_rows)
            rows = np.union1d(new_rows, others[len(others) - budget :] if budget else others[:0])
        kept = set(rows.tolist())
        current.update({a: sid for a, sid in members.items() if catalog.row(a) in kept})
        return rows, current

    def update(self, catalog: Catalog, new_ids: Sequence[int]) -> int:
        """Re-cluster the window and persist; returns the number of stories touched."""
        rows, current = self.window_rows(catalog, new_ids)
        if len(rows) == 0:
            return 0
        drafts: list[StoryDraft] = []
        taken: set[int] = set()
        for members in sorted(cluster_rows(catalog, rows, self.settings), key=len, reverse=True):
            aids = [catalog.meta[r].article_id for r in members]
            # a cluster keeps the id most of its members had, unless a bigger cluster kept that one already
            votes = Counter(current[a] for a in aids if a in current)
            story_id = next((sid for sid, _ in votes.most_common() if sid not in taken), None)
            if story_id is not None:
                taken.add(story_id)
            label = catalog.meta[central_row(catalog, members)]
            times = [t for r in members if (t := catalog.meta[r].published) is not None]
            drafts.append(StoryDraft(story_id, label.title, label.article_id, min(times, default=None),
                                     max(times, default=None), aids))
        return len(self.repo.save(drafts, current))

    def clear(self) -> None:
        self.repo.clear()

    # ---- reading -------------------------------------------------------------------------------------
    def story_of(self, article_id: int) -> int | None:
        return self.repo.story_of(article_id)

    def assignments(self) -> dict[int, int]:
        return self.repo.assignments()

    def info(self, story_id: int, catalog: Catalog | None = None) -> StoryInfo | None:
        found = self.repo.get(story_id)
        return self._info(*found, catalog) if found is not None else None

    def list(self, since: datetime | None = None, min_size: int = 2, limit: int = 50, catalog=None) -> list[StoryInfo]:
        """Most recently active stories first."""
        return [self._info(story, aids, catalog) for story, aids in self.repo.recent(since, min_size, limit)]

    def _info(self, story: Story, aids: list[int], catalog: Catalog | None) -> StoryInfo:
        if catalog is not None:
            arts = [catalog.ref(r) for aid in sorted(aids) if (r := catalog.row(aid)) is not None]
        else:
            arts = list(self.store.article_refs(aids).values())
        arts.sort(key=lambda a: (a.published is None, a.published or datetime.min, a.article_id))
        return StoryInfo(
            story.id, story.label, story.label_article_id, story.size, story.first_seen, story.last_seen, arts
        )
