"""The sample article of a source: one page from its feeds/sitemaps, extracted by the crawler's own extractor
and judged like ValidatePipeline judges it (an article, with a title and a body long enough)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from crawler.extract import ExtractOverrides, extract_article
from crawler.pipelines import PAYWALL_MIN_WORDS
from crawler.sources.fetch import Fetcher
from crawler.sources.hints import dates_with_offsets
from crawler.spiders.news import HTML_TYPES, decode_html


@dataclass
class SampleReport:
    url: str | None
    problem: str | None = None  # fetch problem, not_html, not_article, no_title, no_body, no_candidates
    title: str = ""
    published: datetime | None = None
    authors: list[str] = field(default_factory=list)
    body_words: int = 0
    language: str | None = None
    tried: int = 0
    dates: list[datetime] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def missing(self) -> list[str]:
        """Fields a healthy article page has that this one lacks."""
        return [name for name, value in (("date", self.published), ("author", self.authors)) if not value]

    def to_json(self) -> dict:
        return {"url": self.url, "ok": self.ok, "problem": self.problem, "title": self.title,
                "published": self.published.isoformat() if self.published else None, "authors": self.authors,
                "body_words": self.body_words, "language": self.language, "tried": self.tried}


async def sample_article(fetcher: Fetcher, candidates: list[str], *, timezone: str = "UTC",
                         overrides: ExtractOverrides | None = None, min_words: int = 60,
                         attempts: int = 3) -> SampleReport:
    """The first of up to `attempts` candidate URLs that extracts as a valid article, else the last failure."""
    report = SampleReport(None, "no_candidates")
    for tried, url in enumerate(dict.fromkeys(candidates[: attempts * 3]), 1):
        if tried > attempts:
            break
        report = await _try(fetcher, url, timezone, overrides, min_words)
        report.tried = tried
        if report.ok:
            break
    return report


async def _try(fetcher: Fetcher, url: str, timezone: str, overrides, min_words: int) -> SampleReport:
    got = await fetcher.get(url)
    if got.problem:
        return SampleReport(url, got.problem)
    if got.content_type and got.content_type.encode() not in HTML_TYPES:
        return SampleReport(url, "not_html")
    html = decode_html(got.response)
    art = extract_article(html, got.final_url, default_timezone=timezone, overrides=overrides)
    words = len(art.body.split())
    report = SampleReport(url, None, art.title.strip(), art.published, list(art.authors), words, art.language,
                          dates=dates_with_offsets(got.body[:500_000]))
    # the same order of judgement as crawler.pipelines.ValidatePipeline
    if not art.is_article:
        report.problem = "not_article"
    elif not report.title:
        report.problem = "no_title"
    elif words < (PAYWALL_MIN_WORDS if art.paywalled else min_words):
        report.problem = "no_body"
    return report
