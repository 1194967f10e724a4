"""Tech & auto relevance: a score in [0, 1] and tags (companies, themes) from the lexicon in lexicon.toml.

Hand-written rather than a trained classifier on purpose: it is transparent (tags double as the reason shown to
users), needs no training data, and a publisher-specific lexicon is a TOML edit away.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LEXICON_PATH = Path(__file__).resolve().parent / "lexicon.toml"


@dataclass(frozen=True)
class Relevance:
    score: float
    tags: list[str]  # companies first, then themes, each in lexicon order
    matched: list[str]  # the terms that matched, for debugging


@dataclass(frozen=True)
class _Term:
    tag: str
    kind: str  # company | theme
    text: str
    pattern: re.Pattern


class RelevanceScorer:
    def __init__(self, lexicon_path: Path = LEXICON_PATH):
        data = tomllib.loads(lexicon_path.read_text(encoding="utf-8"))
        self.weights = data["weights"]
        self.terms: list[_Term] = []
        for kind, table in (("company", data["companies"]), ("theme", data["themes"])):
            for tag, words in table.items():
                for word in words:
                    self.terms.append(_Term(tag, kind, word.lstrip("="), _compile(word)))

    def score(self, title: str, body: str) -> Relevance:
        total, tags, matched = 0.0, [], []
        for term in self.terms:
            in_title = bool(term.pattern.search(title))
            if not in_title and not term.pattern.search(body):
                continue
            weight = self.weights["company"] if term.kind == "company" else self.weights["theme_term"]
            total += weight + (self.weights["title_bonus"] * weight if in_title else 0.0)
            matched.append(term.text)
            if term.tag not in tags:
                tags.append(term.tag)
        score = 1.0 - math.exp(-total / self.weights["saturation"])
        return Relevance(round(score, 4), tags, matched)


def _compile(word: str) -> re.Pattern:
    if word.startswith("="):
        return re.compile(rf"(?<![\w-]){re.escape(word[1:])}(?![\w-])")
    return re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])", re.IGNORECASE)


@lru_cache(maxsize=1)
def default_scorer() -> RelevanceScorer:
    return RelevanceScorer()
