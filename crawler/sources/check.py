"""`newsagg sources check`: is each source still crawlable? Its feeds and sitemaps, a sample article, a verdict.

Verdicts: ok (everything works) · degraded (something broke or moved, or the sample lacks a date or author, but
articles still come through) · broken (no working feed or sitemap, or no article extracts). A feed that answers
with permanent redirects to a working feed, or that is broken while the homepage now advertises another working
feed, gets a replacement that `--fix` writes to the registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from crawler.registry import SourceSpec
from crawler.sources.discover import article_candidates, find_feeds, read_homepage, site_root
from crawler.sources.documents import DocumentReport, read_document
from crawler.sources.fetch import Fetcher
from crawler.sources.sample import SampleReport, sample_article
from newsagg.config import Settings
from newsagg.urls import is_http_url
from scrapy.utils.sitemap import sitemap_urls_from_robots


@dataclass
class SourceCheck:
    name: str
    homepage: str
    documents: list[DocumentReport] = field(default_factory=list)
    sample: SampleReport | None = None
    verdict: str = "broken"
    reasons: list[str] = field(default_factory=list)
    replacements: dict[str, str] = field(default_factory=dict)  # registered feed URL -> working new URL
    verified_on: date | None = None  # from the registry: when it last passed
    checked_on: date = field(default_factory=date.today)

    def to_json(self) -> dict:
        return {"source": self.name, "homepage": self.homepage, "verdict": self.verdict, "reasons": self.reasons,
                "documents": [d.to_json() for d in self.documents],
                "sample": self.sample.to_json() if self.sample else None, "replacements": self.replacements,
                "verified_on": self.verified_on.isoformat() if self.verified_on else None,
                "checked_on": self.checked_on.isoformat()}


async def check_source(fetcher: Fetcher, spec: SourceSpec, settings: Settings) -> SourceCheck:
    """Fetch every feed and sitemap of `spec` (robots.txt ones too), one sample article, and judge."""
    kw = {"max_size": settings.crawl.download_maxsize, "index_children": settings.sources.index_children}
    result = SourceCheck(spec.name, spec.homepage, verified_on=spec.verified_on if spec.verified else None)
    for url in spec.feeds:
        result.documents.append(await read_document(fetcher, url, "feed", "registry", **kw))
    for url in spec.sitemaps:
        result.documents.append(await read_document(fetcher, url, "sitemap", "registry", **kw))
    if spec.robots_sitemaps:
        for url in await _robots_sitemaps(fetcher, spec):
            result.documents.append(await read_document(fetcher, url, "sitemap", "robots", **kw))
    await _find_replacements(fetcher, spec, settings, result)
    working = [d for d in result.documents if d.ok]
    result.sample = await sample_article(
        fetcher, article_candidates(working, spec), timezone=spec.timezone, overrides=spec.extract,
        min_words=settings.crawl.min_body_words, attempts=settings.sources.sample_attempts)
    result.verdict, result.reasons = judge(result.documents, result.sample, result.replacements)
    return result


async def _robots_sitemaps(fetcher: Fetcher, spec: SourceSpec) -> list[str]:
    root = site_root(spec.homepage)
    robots = await fetcher.get(root + "/robots.txt")
    if not robots.ok:
        return []
    text = robots.body[:500_000].decode("utf-8", "replace")
    known = set(spec.sitemaps)
    return [u for u in dict.fromkeys(sitemap_urls_from_robots(text, base_url=root + "/"))
            if is_http_url(u) and u not in known and spec.allows(u)]


async def _find_replacements(fetcher: Fetcher, spec: SourceSpec, settings: Settings, result: SourceCheck) -> None:
    """Moved feeds (permanent redirects to a working feed), then broken feeds replaced by the homepage's."""
    broken = []
    for doc in result.documents:
        if doc.kind != "feed":
            continue
        if doc.ok and doc.moved_to and doc.moved_to != doc.url:
            result.replacements[doc.url] = doc.moved_to
        elif not doc.ok:
            broken.append(doc.url)
    if not broken:
        return
    home = await read_homepage(fetcher, spec.homepage)
    if home.problem:
        return
    listed = set(spec.feeds) | set(result.replacements.values())
    fresh = [d for d in await find_feeds(fetcher, home, settings, skip=listed) if d.ok]
    for old, new in zip(broken, fresh):
        result.replacements[old] = new.moved_to or new.url
        result.documents.append(new)


def judge(documents: list[DocumentReport], sample: SampleReport | None,
          replacements: dict[str, str]) -> tuple[str, list[str]]:
    """(verdict, reasons) from what the check found."""
    reasons = []
    for doc in documents:
        if doc.url in replacements:
            how = "moved" if doc.moved_to == replacements[doc.url] else f"{doc.problem}; homepage now lists"
            reasons.append(f"{doc.kind} {doc.url}: {how} {replacements[doc.url]} (--fix rewrites it)")
        elif not doc.ok:
            reasons.append(f"{doc.kind} {doc.url}: {doc.problem}" + (f" ({doc.detail})" if doc.detail else ""))
    if not any(d.ok for d in documents):
        return "broken", reasons + ["no working feed or sitemap"]
    if sample is None or not sample.ok:
        problem = sample.problem if sample else "no_candidates"
        where = f" at {sample.url}" if sample and sample.url else ""
        return "broken", reasons + [f"sample article: {problem}{where}"]
    reasons += [f"sample article has no {what}" for what in sample.missing]
    return ("degraded" if reasons else "ok"), reasons
