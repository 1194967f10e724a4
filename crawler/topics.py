"""Tags that mean "about": which companies and themes an article is about, and which companies it only mentions.

Every guarded lexicon mention (crawler/lexicon.py) is an entity; it becomes a tag only when it is salient: named
in the title as the subject (not as a yardstick: "cheaper than a Model 3"), in the lead, in a large share of the
sentences that name any company, often. Themes are tags when their topical terms fill enough of the article's
sentences. All weights are data in lexicon.toml's [about] table; nothing here knows any company by name.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from crawler.lexicon import Lexicon, Mention, load_lexicon

# Sentence ends: . ! ? followed by space and a capital, digit or quote; or a paragraph break. A regex rather
# than an NLP sentence splitter: salience only needs "which sentences name X", and news prose splits cleanly.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“‘A-Z0-9])|\n+")
_WORD = re.compile(r"[\w'-]+")
_ARTICLES = {"a", "an", "the"}


@dataclass(frozen=True)
class Topics:
    tags: list[str]  # what the article is about: companies first, then themes, most salient first
    entities: list[str]  # every company mentioned, most salient first (the tags' companies included)
    salience: dict[str, float] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class _Text:
    """The article as one string (title, summary, body on lines of their own) and where its parts lie in it."""

    text: str
    sentences: list[tuple[int, int]]  # [start, end) of each sentence; the title is the first
    lead_end: int  # the lead (summary and first paragraph) runs from the end of the title to here
    starts: tuple[int, ...] = ()  # sentence starts, for finding a mention's sentence by bisection

    @classmethod
    def of(cls, title: str, summary: str, body: str) -> "_Text":
        title, summary, body = (title or "").replace("\n", " "), summary or "", (body or "").strip()
        text = f"{title}\n{summary}\n{body}"
        sentences, start = [(0, len(title))], len(title) + 1  # the title is one sentence, whatever its stops
        for cut in _SENTENCE_END.finditer(text, start):
            if cut.start() > start:
                sentences.append((start, cut.start()))
            start = cut.end()
        if start < len(text):
            sentences.append((start, len(text)))
        body_start = len(title) + len(summary) + 2
        first_break = body.find("\n")
        lead_end = body_start + (first_break if first_break > 0 else len(body))
        if first_break < 0:  # one block of text: its first two sentences stand in for a first paragraph
            later = [e for s, e in sentences if s >= body_start]
            lead_end = later[1] if len(later) > 1 else lead_end
        return cls(text, sentences, lead_end, tuple(s for s, _ in sentences))

    def sentence_of(self, position: int) -> int:
        return bisect_right(self.starts, position) - 1


class TopicTagger:
    def __init__(self, lexicon: Lexicon | None = None):
        self.lexicon = lexicon or load_lexicon()
        self.w = self.lexicon.about
        cues = sorted(self.w.get("comparison_cues", []), key=len, reverse=True)
        self._cue = re.compile(r"\b(?:" + "|".join(map(re.escape, cues)) + r")\b", re.I) if cues else None

    def topics(self, title: str, summary: str, body: str) -> Topics:
        text = _Text.of(title, summary, body)
        mentions = self.lexicon.mentions(text.text)
        title_end = text.sentences[0][1] if text.sentences else 0
        title_mentions = [m for m in mentions if m.start < title_end]
        lead_tags = {m.tag for m in mentions if title_end < m.start < text.lead_end and m.topical}
        company_n = Counter(t for t, _ in {(m.tag, text.sentence_of(m.start)) for m in mentions
                                           if m.kind == "company"})
        theme_n = Counter(t for t, _ in {(m.tag, text.sentence_of(m.start)) for m in mentions
                                         if m.kind == "theme" and m.topical})
        salience: dict[str, float] = {}
        top = max(company_n.values(), default=1)
        for tag, n in company_n.items():
            salience[tag] = self._company(tag, n, top, text.text[:title_end], title_mentions, lead_tags)
        for tag, n in theme_n.items():
            salience[tag] = self._theme(tag, n, len(text.sentences), title_mentions, lead_tags)
        by_salience = sorted(salience, key=lambda t: -salience[t])
        companies = [t for t in by_salience if t in company_n]
        tags = [t for t in companies if salience[t] >= self.w["company_threshold"]
                and company_n[t] >= self.w["company_min_sentences"]]
        tags += [t for t in by_salience if t in theme_n and salience[t] >= self.w["theme_threshold"]
                 and theme_n[t] >= self.w["theme_min_sentences"]]
        return Topics(tags, companies, {t: round(s, 3) for t, s in salience.items()})

    def _company(self, tag: str, n: int, top: int, title: str, title_mentions: list[Mention],
                 lead_tags: set[str]) -> float:
        w = self.w
        named = [m for m in title_mentions if m.tag == tag]
        score = 0.0
        if named:
            subject = any(not self._is_yardstick(title, m) for m in named)
            score += w["company_title"] if subject else w["company_title_comparison"]
        if tag in lead_tags:
            score += w["company_lead"]
        cap = w["frequency_cap"]
        return score + w["company_share"] * n / top + w["company_frequency"] * min(n, cap) / cap

    def _is_yardstick(self, title: str, mention: Mention) -> bool:
        """A comparison cue among the few words before the name ("cheaper than a Model 3"); articles not counted."""
        words = [w for w in _WORD.findall(title[: mention.start]) if w.lower() not in _ARTICLES]
        before = words[-int(self.w.get("comparison_window", 3)):]
        return bool(self._cue and self._cue.search(" ".join(before)))

    def _theme(self, tag: str, n: int, sentences: int, title_mentions: list[Mention], lead_tags: set[str]) -> float:
        w = self.w
        in_title = any(m.tag == tag and m.topical for m in title_mentions)
        return (w["theme_title"] * in_title + w["theme_lead"] * (tag in lead_tags)
                + w["theme_density"] * n / max(sentences, 1))


@lru_cache(maxsize=1)
def default_tagger() -> TopicTagger:
    return TopicTagger()
