"""Tech & auto relevance: a score in [0, 1] and every lexicon tag mentioned (crawler/topics.py decides which of
them the article is about).

Hand-written rather than a trained classifier on purpose: it is transparent (tags double as the reason shown to
users), needs no training data, and a publisher-specific lexicon is a TOML edit away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from crawler.lexicon import LEXICON_PATH, Lexicon


@dataclass(frozen=True)
class Relevance:
    score: float
    tags: list[str]  # every tag mentioned (companies first, then themes, in lexicon order): mentions, not topics
    matched: list[str]  # the terms that matched, for debugging


class RelevanceScorer:
    def __init__(self, lexicon_path: Path = LEXICON_PATH, lexicon: Lexicon | None = None):
        self.lexicon = lexicon or Lexicon.load(lexicon_path)
        self.weights = self.lexicon.weights
        self._order = {t.tag: i for i, t in reversed(list(enumerate(self.lexicon.terms)))}

    def score(self, title: str, body: str) -> Relevance:
        """Each distinct term found adds its kind's weight (more in the title); the sum saturates towards 1."""
        title_mentions = self.lexicon.mentions(title)
        in_title = {m.term for m in title_mentions}
        found: dict[str, str] = {}  # term -> kind
        tags: set[str] = set()
        for m in title_mentions + self.lexicon.mentions(body):
            found.setdefault(m.term, m.kind)
            tags.add(m.tag)
        total = 0.0
        for term, kind in found.items():
            weight = self.weights["company"] if kind == "company" else self.weights["theme_term"]
            total += weight + (self.weights["title_bonus"] * weight if term in in_title else 0.0)
        score = 1.0 - math.exp(-total / self.weights["saturation"])
        return Relevance(round(score, 4), sorted(tags, key=self._order.get), list(found))


@lru_cache(maxsize=1)
def default_scorer() -> RelevanceScorer:
    return RelevanceScorer()
