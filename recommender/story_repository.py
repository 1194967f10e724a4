"""Stored stories (tables `stories`, `article_stories`): the only module that writes their SQL.

recommender/stories.py decides what the stories are; this module keeps them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from newsagg.models import ArticleStory, Story, utcnow
from newsagg.store import Store

BATCH = 1000  # ids per IN (...) list: well below every driver's parameter limit


@dataclass(frozen=True)
class StoryDraft:
    """One re-clustered story as it is to be written."""

    story_id: int | None  # the id most members already had; None: a new story
    label: str
    label_article_id: int
    first_seen: datetime | None  # None: keep the stored one (or now, for a new story)
    last_seen: datetime | None
    members: list[int]  # article ids


class StoryRepository:
    """Reads and writes story assignments; detached `Story` rows come back with their members' article ids."""

    def __init__(self, store: Store):
        self.store = store

    # ---- writing -------------------------------------------------------------------------------------
    def save(self, drafts: Sequence[StoryDraft], current: dict[int, int]) -> set[int]:
        """Write the drafts in one transaction (`current`: article id → story id before them); stories emptied
        by the move are deleted, the others' sizes recounted. Returns the ids of the stories written."""
        written: set[int] = set()
        with self.store.session() as s:
            for draft in drafts:
                story = s.get(Story, draft.story_id) if draft.story_id else None
                if story is None:
                    story = Story(label="", size=0)
                    s.add(story)
                    s.flush()
                written.add(story.id)
                story.label = draft.label
                story.label_article_id = draft.label_article_id
                story.first_seen = draft.first_seen or story.first_seen or utcnow()
                story.last_seen = draft.last_seen or story.last_seen or utcnow()
                story.updated_at = utcnow()
                moved = [a for a in draft.members if current.get(a) != story.id]
                if moved:
                    s.execute(delete(ArticleStory).where(ArticleStory.article_id.in_(moved)))
                    s.add_all(ArticleStory(article_id=a, story_id=story.id) for a in moved)
            s.flush()
            self._refresh_sizes(s, set(current.values()) | written)
        return written

    @staticmethod
    def _refresh_sizes(s: Session, story_ids: set[int]) -> None:
        sizes = dict(
            s.execute(
                select(ArticleStory.story_id, func.count())
                .where(ArticleStory.story_id.in_(list(story_ids)))
                .group_by(ArticleStory.story_id)
            ).all()
        )
        for sid in story_ids:
            if sizes.get(sid, 0) == 0:
                s.execute(delete(Story).where(Story.id == sid))  # emptied by a re-cluster
            else:
                s.get(Story, sid).size = sizes[sid]

    def clear(self) -> None:
        with self.store.session() as s:
            s.execute(delete(ArticleStory))
            s.execute(delete(Story))

    # ---- reading -------------------------------------------------------------------------------------
    def assignments_of_articles(self, article_ids: Iterable[int]) -> dict[int, int]:
        """article id → story id, for those of these articles that have a story."""
        return self._assignments_where(ArticleStory.article_id, article_ids)

    def assignments_in_stories(self, story_ids: Iterable[int]) -> dict[int, int]:
        """article id → story id, for every member of these stories."""
        return self._assignments_where(ArticleStory.story_id, story_ids)

    def _assignments_where(self, column, values: Iterable[int]) -> dict[int, int]:
        values, out = sorted(values), {}
        with self.store.session() as s:
            for i in range(0, len(values), BATCH):
                out.update(
                    s.execute(
                        select(ArticleStory.article_id, ArticleStory.story_id).where(column.in_(values[i : i + BATCH]))
                    ).all()  # a Result has .keys(): dict.update() would take it for a mapping
                )
        return out

    def story_of(self, article_id: int) -> int | None:
        with self.store.session() as s:
            return s.scalar(select(ArticleStory.story_id).where(ArticleStory.article_id == article_id))

    def assignments(self) -> dict[int, int]:
        """article id → story id, for every assigned article."""
        with self.store.session() as s:
            return dict(s.execute(select(ArticleStory.article_id, ArticleStory.story_id)).all())

    def get(self, story_id: int) -> tuple[Story, list[int]] | None:
        """One story and its members' article ids; None if it does not exist."""
        with self.store.session() as s:
            story = s.get(Story, story_id)
            if story is None:
                return None
            return story, list(s.scalars(select(ArticleStory.article_id).where(ArticleStory.story_id == story_id)))

    def recent(self, since: datetime | None, min_size: int, limit: int) -> list[tuple[Story, list[int]]]:
        """Stories of at least `min_size` members, most recently active first, with their members' ids."""
        stmt = select(Story).where(Story.size >= min_size)
        if since is not None:
            stmt = stmt.where(Story.last_seen >= since)
        stmt = stmt.order_by(Story.last_seen.desc().nulls_last(), Story.size.desc(), Story.id.desc()).limit(limit)
        with self.store.session() as s:
            stories = list(s.scalars(stmt))
            members: dict[int, list[int]] = {}
            for aid, sid in s.execute(
                select(ArticleStory.article_id, ArticleStory.story_id).where(
                    ArticleStory.story_id.in_([st.id for st in stories])
                )
            ):
                members.setdefault(sid, []).append(aid)
        return [(st, members.get(st.id, [])) for st in stories]

    def labels(self, min_size: int = 2) -> dict[int, tuple[int, str]]:
        """article id → (story id, story label), for the members of stories of at least `min_size` articles."""
        with self.store.session() as s:
            rows = s.execute(
                select(ArticleStory.article_id, Story.id, Story.label)
                .join(Story, Story.id == ArticleStory.story_id)
                .where(Story.size >= min_size)
            ).all()
        return {aid: (sid, label) for aid, sid, label in rows}
