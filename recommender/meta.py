"""What the ranker shows of an article (ArticleMeta), and its compact encoding for many rows (EncodedMetas): one
UTF-8 blob of per-row JSON plus offsets, which a saved catalog segment holds as two memory-mappable arrays."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np


@dataclass(frozen=True)
class ArticleMeta:
    article_id: int
    url: str
    title: str
    source: str
    published: datetime | None
    group: int | None
    tags: tuple[str, ...]
    entities: tuple[str, ...]  # display names, most frequent first (for reasons)


def meta_json(m: ArticleMeta) -> list:
    return [m.article_id, m.url, m.title, m.source, m.published.isoformat() if m.published else None, m.group,
            list(m.tags), list(m.entities)]


def meta_of(row: list) -> ArticleMeta:
    aid, url, title, source, published, group, tags, entities = row
    return ArticleMeta(aid, url, title, source, datetime.fromisoformat(published) if published else None, group,
                       tuple(tags), tuple(entities))


class EncodedMetas(Sequence):
    """Metadata of a run of rows as one UTF-8 blob of per-row JSON + offsets (both may be memory-mapped);
    an ArticleMeta is decoded when a row is asked for, so nothing per article is resident."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray):
        self.blob, self.offsets = blob, offsets

    @classmethod
    def of(cls, metas: Sequence[ArticleMeta]) -> "EncodedMetas":
        if isinstance(metas, EncodedMetas):
            return metas
        parts = [json.dumps(meta_json(m), ensure_ascii=False).encode("utf-8") for m in metas]
        offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in parts], out=offsets[1:])
        return cls(np.frombuffer(b"".join(parts), dtype=np.uint8), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i):
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step != 1:
                return [self[j] for j in range(start, stop, step)]
            base = int(self.offsets[start]) if stop > start else 0
            return EncodedMetas(self.blob[base : int(self.offsets[stop]) if stop > start else 0],
                                self.offsets[start : max(start, stop) + 1] - base)
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return meta_of(json.loads(self.blob[int(self.offsets[i]) : int(self.offsets[i + 1])].tobytes()))

    @staticmethod
    def concat(parts: Sequence["EncodedMetas"]) -> "EncodedMetas":
        parts = [p for p in parts if len(p)]
        if not parts:
            return EncodedMetas(np.zeros(0, dtype=np.uint8), np.zeros(1, dtype=np.int64))
        blob = np.concatenate([p.blob[int(p.offsets[0]) : int(p.offsets[-1])] for p in parts])
        sizes = np.concatenate([np.diff(p.offsets) for p in parts])
        offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        return EncodedMetas(blob, offsets)
