"""Realistic synthetic news archives for the scale benchmarks (related_scale.py, api_load.py).

Texts are mixed from the demo articles (newsagg/demo/content/events/*.json): an event borrows the paragraphs of one
demo event plus a few from others, and gets its own made-up names and numbers written into title and body, so two
events of one demo topic share most vocabulary and differ by their names (what real archives look like). 32
sources, ~20 articles per event, dates over two years, 300-600-word bodies. Vectors are synthetic (event centre +
noise): embedding 1M texts with the model would take days on 2 cores, and the benchmarks measure serving.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

EVENTS_DIR = Path(__file__).resolve().parents[1] / "newsagg" / "demo" / "content" / "events"
SOURCES = 32
PER_EVENT = 20
DAY0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
SYLLABLES = "ka vo ri tes lo mi zen dra qu pol nex tri bo sa fer lu gan xi mor pe ul cha den vik".split()


@dataclass(frozen=True)
class SyntheticArticle:
    id: int  # 1-based, in publishing order of generation (not of date)
    event: int
    source: int
    title: str
    body: str
    published: datetime


def _demo_paragraphs() -> list[tuple[list[str], list[str]]]:
    """Per demo event: (titles, paragraphs)."""
    out = []
    for path in sorted(EVENTS_DIR.glob("*.json")):
        event = json.loads(path.read_text())
        titles = [a["title"] for a in event["articles"]]
        paragraphs = [p for a in event["articles"] for p in a["body"] if len(p.split()) >= 20]
        out.append((titles, paragraphs))
    return out


class Archive:
    """N articles, deterministic for a seed; `articles(start, end)` generates a slice without the rest."""

    def __init__(self, n: int, dim: int = 384, seed: int = 7):
        self.n, self.dim, self.seed = n, dim, seed
        rng = np.random.default_rng(seed)
        self.demo = _demo_paragraphs()
        self.n_events = max(1, n // PER_EVENT)
        self.event_of = rng.integers(0, self.n_events, n)
        self.base_of_event = rng.integers(0, len(self.demo), self.n_events)
        self.day_of_event = rng.uniform(0, 730, self.n_events)
        self.names = ["".join(rng.choice(SYLLABLES, rng.integers(2, 4))).capitalize() for _ in range(50_000)]
        self.event_names = rng.integers(0, len(self.names), (self.n_events, 3))
        self.event_numbers = rng.integers(2, 9999, (self.n_events, 2))

    def vectors(self, start: int, end: int) -> np.ndarray:
        """Unit vectors of articles [start, end): an event centre (seeded by the event) plus per-article noise."""
        out = np.empty((end - start, self.dim), dtype=np.float32)
        for i in range(start, end):
            e = int(self.event_of[i])
            centre = np.random.default_rng((self.seed, 1, e)).standard_normal(self.dim)
            noise = np.random.default_rng((self.seed, 2, i)).standard_normal(self.dim)
            v = centre / np.sqrt(self.dim) + 0.07 * noise / np.sqrt(self.dim) * 10
            out[i - start] = v / np.linalg.norm(v)
        return out

    def articles(self, start: int, end: int) -> Iterator[SyntheticArticle]:
        for i in range(start, end):
            yield self.article(i)

    def article(self, i: int) -> SyntheticArticle:
        rng = np.random.default_rng((self.seed, 3, i))
        e = int(self.event_of[i])
        titles, paragraphs = self.demo[int(self.base_of_event[e])]
        names = [self.names[j] for j in self.event_names[e]]
        numbers = [str(x) for x in self.event_numbers[e]]
        words_wanted = int(rng.integers(300, 601))
        parts, count = [], 0
        while count < words_wanted:
            if rng.random() < 0.8:
                p = paragraphs[int(rng.integers(len(paragraphs)))]
            else:  # a paragraph of another event: background, context
                _, other = self.demo[int(rng.integers(len(self.demo)))]
                p = other[int(rng.integers(len(other)))]
            sentence = f"{names[int(rng.integers(3))]} {names[int(rng.integers(3))]} said {numbers[int(rng.integers(2))]}."
            parts.append(f"{sentence} {p}")
            count += len(p.split()) + 4
        title = f"{names[0]} {names[1]}: {titles[int(rng.integers(len(titles)))]}"
        published = DAY0 + timedelta(days=float(self.day_of_event[e] + rng.uniform(0, 3)))
        return SyntheticArticle(i + 1, e, int(rng.integers(SOURCES)), title, "\n\n".join(parts), published)
