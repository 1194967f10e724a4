"""Tags that mean "about": which companies and themes an article is about, and which companies it only mentions.

Every guarded lexicon mention (crawler/lexicon.py) is an entity; it becomes a tag only when it is salient: named
in the title as the subject (not as a yardstick: "cheaper than a Model 3"), in the lead, in a large share of the
sentences that name any company, often. Themes are tags when their topical terms fill enough of the article's
sentences. All weights are data in lexicon.toml's [about] table; nothing here knows any company by name.
"""

from __future__ import annotations

import re
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
    """The article cut into what salience looks at."""

    title: str
    lead: str
    sentences: list[str]

    @classmethod
    def of(cls, title: str, summary: str, body: str) -> "_Text":
        paragraphs = [p for p in re.split(r"\n\s*\n|\n", body or "") if p.strip()]
        body_sentences = [s for s in _SENTENCE_END.split(body or "") if s.strip()]
        first = paragraphs[0] if len(paragraphs) > 1 else " ".join(body_sentences[:2])
        summary_sentences = [s for s in _SENTENCE_END.split(summary or "") if s.strip()]
        return cls(title or "", f"{summary or ''}\n{first}", [title or "", *summary_sentences, *body_sentences])


class TopicTagger:
    def __init__(self, lexicon: Lexicon | None = None):
        self.lexicon = lexicon or load_lexicon()
        self.w = self.lexicon.about
        cues = sorted(self.w.get("comparison_cues", []), key=len, reverse=True)
        self._cue = re.compile(r"\b(?:" + "|".join(map(re.escape, cues)) + r")\b", re.I) if cues else None

    def topics(self, title: str, summary: str, body: str) -> Topics:
        text = _Text.of(title, summary, body)
        per_sentence = [self.lexicon.mentions(s) for s in text.sentences]
        title_mentions, lead_tags = per_sentence[0], {m.tag for m in self.lexicon.mentions(text.lead) if m.topical}
        company_n = Counter(t for ms in per_sentence for t in {m.tag for m in ms if m.kind == "company"})
        theme_n = Counter(t for ms in per_sentence for t in {m.tag for m in ms if m.kind == "theme" and m.topical})
        salience: dict[str, float] = {}
        top = max(company_n.values(), default=1)
        for tag, n in company_n.items():
            salience[tag] = self._company(tag, n, top, title, title_mentions, lead_tags)
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
