"""The article map: stored embeddings (`embeddings` table, the service's model) projected to 2-D with PCA."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st
from sklearn.decomposition import PCA
from sqlalchemy import select

from dashboard.data import QUERY_TTL, store_for
from dashboard.safe_text import hover_escape
from newsagg.models import Article, ArticleStory, Embedding, Source, Story

NO_STORY = "(no story)"
OTHER_TAG = "(other)"
COLOUR_TAGS = 10  # distinct tag colours; more make the legend unreadable
GENERIC_SHARE = 0.4  # a tag on more than this share of articles ("cars") separates nothing


@dataclass(frozen=True)
class ArticleMap:
    points: pd.DataFrame  # article_id, x, y, title (hover-escaped), source, tag, story, published
    explained: tuple[float, float]  # share of variance along each axis


def colour_tags(tag_lists: list[list[str]]) -> list[str]:
    """One tag per article for colouring: its most frequent tag among the common but not generic ones."""
    counts = Counter(t for tags in tag_lists for t in set(tags))
    limit = GENERIC_SHARE * len(tag_lists)
    palette = [t for t, n in counts.most_common() if n >= 2 and n <= limit][:COLOUR_TAGS]
    rank = {t: i for i, t in enumerate(palette)}
    return [min((t for t in tags if t in rank), key=rank.get, default=OTHER_TAG) for tags in tag_lists]


@st.cache_data(ttl=QUERY_TTL, show_spinner="Projecting the embeddings …")
def article_map(db: str, model_key: str, limit: int) -> ArticleMap | None:
    """The newest `limit` embedded articles in 2-D; None when fewer than three are embedded."""
    with store_for(db).session() as s:
        rows = s.execute(
            select(Embedding.article_id, Embedding.vector, Article.title, Article.tags, Article.published_at,
                   Source.name)
            .join(Article, Article.id == Embedding.article_id)
            .join(Source, Source.id == Article.source_id)
            .where(Embedding.model == model_key)
            .order_by(Article.published_at.desc().nulls_last(), Article.id.desc())
            .limit(limit)
        ).all()
        story_rows = s.execute(
            select(ArticleStory.article_id, Story.id, Story.label)
            .join(Story, Story.id == ArticleStory.story_id)
            .where(Story.size >= 2)
        ).all()
    stories = {aid: f"{hover_escape(label, 50)} (#{sid})" for aid, sid, label in story_rows}
    if len(rows) < 3:
        return None
    vectors = np.vstack([np.frombuffer(r.vector, dtype="<f4") for r in rows])
    pca = PCA(n_components=2, random_state=0)
    xy = pca.fit_transform(vectors)
    points = pd.DataFrame(
        {
            "article_id": [r.article_id for r in rows],
            "x": xy[:, 0],
            "y": xy[:, 1],
            "title": [hover_escape(r.title) for r in rows],
            "source": [r.name for r in rows],
            "tag": [hover_escape(t) for t in colour_tags([list(r.tags or ()) for r in rows])],
            "story": [stories.get(r.article_id, NO_STORY) for r in rows],
            "published": [r.published_at for r in rows],
        }
    )
    ratio = pca.explained_variance_ratio_
    return ArticleMap(points, (float(ratio[0]), float(ratio[1])))
