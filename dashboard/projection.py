"""The article map: stored embeddings (the service's model) projected to 2-D with PCA."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st
from sklearn.decomposition import PCA

from dashboard import data
from dashboard.data import QUERY_TTL, store_for
from dashboard.safe_text import hover_escape
from newsagg.store import ArticleFilter

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
    """The newest `limit` embedded articles in 2-D; None when fewer than three are embedded.

    Vectors and stories come from the shared service (whose model `model_key` names, for the cache), the titles,
    tags and dates from the store."""
    service = data.service()
    vectors = dict(service.newest_vectors(limit))
    articles = store_for(db).list_articles(ArticleFilter(ids=list(vectors), limit=len(vectors)))
    if len(articles) < 3:
        return None
    stories = {aid: f"{hover_escape(label, 50)} (#{sid})" for aid, (sid, label) in service.story_labels().items()}
    pca = PCA(n_components=2, random_state=0)
    xy = pca.fit_transform(np.vstack([vectors[a.id] for a in articles]))
    points = pd.DataFrame(
        {
            "article_id": [a.id for a in articles],
            "x": xy[:, 0],
            "y": xy[:, 1],
            "title": [hover_escape(a.title) for a in articles],
            "source": [a.source_name for a in articles],
            "tag": [hover_escape(t) for t in colour_tags([list(a.tags or ()) for a in articles])],
            "story": [stories.get(a.id, NO_STORY) for a in articles],
            "published": [a.published_at for a in articles],
        }
    )
    ratio = pca.explained_variance_ratio_
    return ArticleMap(points, (float(ratio[0]), float(ratio[1])))
