"""Stored embeddings (`embeddings` table; the only module that writes its SQL): a rebuild re-embeds only articles
whose text changed."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, select

from newsagg.config import RetentionSettings
from newsagg.models import Article, Embedding
from newsagg.store import PruneTarget, Store
from recommender.embed import Embedder, article_text, text_hash

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbedStats:
    reused: int
    embedded: int


class VectorRepository:
    """Reads and writes one embedder's vectors; `ensure` embeds what is missing or stale, in batches."""

    def __init__(self, store: Store, embedder: Embedder, chunk: int = 256):
        self.store = store
        self.embedder = embedder
        self.chunk = chunk

    @property
    def key(self) -> str:
        return self.embedder.info.key

    def load(self, ids: Sequence[int]) -> dict[int, tuple[str, np.ndarray]]:
        """article id → (text hash, vector) for the ids that have a stored vector of this model."""
        out: dict[int, tuple[str, np.ndarray]] = {}
        ids = list(ids)
        for i in range(0, len(ids), 500):
            with self.store.session() as s:
                rows = s.execute(
                    select(Embedding.article_id, Embedding.text_hash, Embedding.vector).where(
                        Embedding.model == self.key, Embedding.article_id.in_(ids[i : i + 500])
                    )
                )
                for aid, h, blob in rows:
                    out[aid] = (h, np.frombuffer(blob, dtype="<f4"))
        return out

    def ensure(self, articles: Iterable[Article], lead_words: int) -> tuple[dict[int, np.ndarray], EmbedStats]:
        """Vectors for these articles: stored ones when the text is unchanged, freshly embedded (and saved) otherwise."""
        articles = list(articles)
        texts = {a.id: article_text(a.title, a.body, lead_words) for a in articles}
        hashes = {aid: text_hash(t) for aid, t in texts.items()}
        stored = self.load(list(texts))
        vectors = {aid: v for aid, (h, v) in stored.items() if h == hashes[aid]}
        todo = [aid for aid in texts if aid not in vectors]
        for i in range(0, len(todo), self.chunk):
            batch = todo[i : i + self.chunk]
            embedded = self.embedder.encode([texts[aid] for aid in batch])
            self._save(batch, [hashes[aid] for aid in batch], embedded)
            vectors.update(zip(batch, embedded))
        return vectors, EmbedStats(reused=len(articles) - len(todo), embedded=len(todo))

    def _save(self, ids: list[int], hashes: list[str], vecs: np.ndarray) -> None:
        with self.store.session() as s:
            # Delete-then-insert is portable (SQLite and PostgreSQL) and keeps one row per (article, model).
            s.execute(delete(Embedding).where(Embedding.model == self.key, Embedding.article_id.in_(ids)))
            s.add_all(
                Embedding(article_id=aid, model=self.key, text_hash=h, vector=v.astype("<f4").tobytes())
                for aid, h, v in zip(ids, hashes, vecs)
            )

    def stored_count(self) -> int:
        with self.store.session() as s:
            return s.scalar(select(func.count()).select_from(Embedding).where(Embedding.model == self.key)) or 0

    def newest(self, limit: int) -> list[tuple[int, np.ndarray]]:
        """(article id, vector) of the `limit` most recently published articles that have a vector of this model
        (the article's date read in the join, for the order), newest first."""
        with self.store.session() as s:
            rows = s.execute(
                select(Embedding.article_id, Embedding.vector)
                .join(Article, Article.id == Embedding.article_id)
                .where(Embedding.model == self.key)
                .order_by(Article.published_at.desc().nulls_last(), Article.id.desc())
                .limit(limit)
            ).all()
        return [(aid, np.frombuffer(blob, dtype="<f4")) for aid, blob in rows]


def retired_vectors(retention: RetentionSettings, current_models: Sequence[str]) -> list[PruneTarget]:
    """The `Store.prune` target of vectors of models neither configured nor kept (none when that is off)."""
    if not retention.retired_embeddings:
        return []
    keep = sorted({*current_models, *retention.keep_models})
    return [PruneTarget("embeddings of retired models", Embedding, Embedding.model.not_in(keep))]
