"""The tech & auto lexicon (lexicon.toml) and where its terms are mentioned in a text, with the guards applied.

A term is matched on word boundaries, case-insensitively unless it starts with "=" (then exactly as written, so
"=Apple" finds the company but not the fruit). A term starting with "~" is context: it counts for relevance and
as a mention, never towards a topic ("car" says an article is automotive, not that it is about a car product).
Two general guards, both data in the lexicon:
- a match inside a `not_mentions` phrase does not count ("adaptive cruise control" is not Cruise);
- a match inside a longer match of another term wins for the longer one ("Super Cruise" is GM's system, not
  Cruise; "Sony Honda" is the joint venture, not Honda).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

LEXICON_PATH = Path(__file__).resolve().parent / "lexicon.toml"


@dataclass(frozen=True)
class Term:
    tag: str
    kind: str  # company | theme | "" for a not-mention phrase
    text: str
    pattern: re.Pattern
    topical: bool = True  # False for "~" context terms
    needle: str = ""  # lower-case text, for the cheap substring test before the regex


@dataclass(frozen=True)
class Mention:
    tag: str
    kind: str
    term: str
    start: int
    end: int
    topical: bool = True


@dataclass(frozen=True)
class Lexicon:
    terms: list[Term]
    guards: list[Term]
    weights: dict = field(default_factory=dict)  # [weights]: the relevance score
    about: dict = field(default_factory=dict)  # [about]: what makes a mention a topic (crawler/topics.py)
    kinds: dict[str, str] = field(default_factory=dict)  # tag -> company | theme

    @classmethod
    def load(cls, path: Path = LEXICON_PATH) -> "Lexicon":
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        terms: list[Term] = []
        kinds: dict[str, str] = {}
        for kind, table in (("company", data["companies"]), ("theme", data["themes"])):
            for tag, words in table.items():
                kinds[tag] = kind
                terms.extend(_term(tag, kind, w) for w in words)
        guards = [_term("", "", p) for p in data.get("phrases", {}).get("not_mentions", [])]
        return cls(terms, guards, data.get("weights", {}), data.get("about", {}), kinds)

    def mentions(self, text: str) -> list[Mention]:
        """Every guarded mention of a lexicon term in `text`, in order of position."""
        low = (text or "").lower()
        # a plain substring test first: most terms are absent from any one article, and `in` is far cheaper
        found = [Mention(t.tag, t.kind, t.text, m.start(), m.end(), t.topical)
                 for t in self.terms if t.needle in low for m in t.pattern.finditer(text)]
        if not found:
            return []
        spans = [(m.start(), m.end()) for g in self.guards if g.needle in low for m in g.pattern.finditer(text)]
        spans += [(m.start, m.end) for m in found]
        return sorted((m for m in found if not _covered(m, spans)), key=lambda m: (m.start, m.tag))


def _covered(mention: Mention, spans: list[tuple[int, int]]) -> bool:
    """Inside a strictly longer span (a guard phrase, or a longer term)."""
    length = mention.end - mention.start
    return any(s <= mention.start and mention.end <= e and e - s > length for s, e in spans)


def _term(tag: str, kind: str, word: str) -> Term:
    topical = not word.startswith("~")
    word = word.lstrip("~")
    text = word.lstrip("=")
    return Term(tag, kind, text, compile_term(word), topical, text.lower())


def compile_term(word: str) -> re.Pattern:
    if word.startswith("="):
        return re.compile(rf"(?<![\w-]){re.escape(word[1:])}(?![\w-])")
    return re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])", re.IGNORECASE)


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    return Lexicon.load(path)
