"""One feed or sitemap, fetched and read the way the spider reads it: status, redirects, entries, newest date."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from crawler.discovery import BadDocument, Discovered, HostileXml, inflate, parse_feed, parse_sitemap
from crawler.sources.fetch import Fetcher
from crawler.sources.hints import dates_with_offsets

NEWS_NAMESPACE = b"google.com/schemas/sitemap-news/"
_OLDEST = datetime.min.replace(tzinfo=timezone.utc)


@dataclass
class DocumentReport:
    """What a check found at one feed/sitemap URL; `problem` is None when it works."""

    url: str
    kind: str  # feed | sitemap
    origin: str  # registry | head-link | common-path | robots | index-child
    status: int | None = None
    final_url: str = ""
    redirects: list[tuple[int, str]] = field(default_factory=list)
    moved_to: str | None = None  # set when every redirect was permanent
    entries: int = 0  # articles (feeds, sitemaps) or child sitemaps (indexes)
    newest: datetime | None = None
    is_index: bool = False
    is_news: bool = False
    problem: str | None = None
    detail: str = ""
    articles: list[Discovered] = field(default_factory=list, repr=False)  # newest first, for the sample
    dates: list[datetime] = field(default_factory=list, repr=False)  # as printed, with offsets (timezone hint)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_json(self) -> dict:
        return {"url": self.url, "kind": self.kind, "origin": self.origin, "status": self.status,
                "final_url": self.final_url, "redirects": [list(hop) for hop in self.redirects],
                "moved_to": self.moved_to, "entries": self.entries,
                "newest": self.newest.isoformat() if self.newest else None, "index": self.is_index,
                "news": self.is_news, "ok": self.ok, "problem": self.problem, "detail": self.detail}


def newest_first(entries: list[Discovered]) -> list[Discovered]:
    return sorted(entries, key=lambda e: e.published or _OLDEST, reverse=True)


async def read_document(fetcher: Fetcher, url: str, kind: str, origin: str, *, max_size: int,
                        index_children: int = 2) -> DocumentReport:
    """Fetch and parse one feed or sitemap; of an index, its newest `index_children` children are read too."""
    got = await fetcher.get(url)
    report = DocumentReport(url, kind, origin, got.status, got.final_url, list(got.redirects), got.moved_to)
    if got.problem:
        report.problem = got.problem
        return report
    try:
        body = inflate(got.body, max_size)
        entries = _parse(report, body)
    except HostileXml as exc:
        report.problem, report.detail = "hostile_xml", f"declares entities ({exc})"
        return report
    except BadDocument as exc:
        report.problem, report.detail = f"bad_{kind}", str(exc)[:200]
        return report
    report.entries, report.dates = len(entries), dates_with_offsets(body[:500_000])
    report.newest = max((e.published for e in entries if e.published), default=None)
    if report.is_index:
        await _read_children(fetcher, report, newest_first(entries)[:index_children], max_size)
    else:
        report.articles = newest_first(entries)
    if not report.entries:
        report.problem, report.detail = "empty", f"the {kind} lists nothing"
    return report


def _parse(report: DocumentReport, body: bytes) -> list[Discovered]:
    if report.kind == "feed":
        return parse_feed(body)
    content = parse_sitemap(body)
    report.is_index = content.is_index
    report.is_news = NEWS_NAMESPACE in body[:4096]
    return content.entries


async def _read_children(fetcher: Fetcher, report: DocumentReport, children: list[Discovered], max_size: int):
    for child in children:
        sub = await read_document(fetcher, child.url, "sitemap", "index-child", max_size=max_size, index_children=0)
        if sub.ok:
            report.articles.extend(sub.articles)
            report.dates.extend(sub.dates)
            report.is_news = report.is_news or sub.is_news
    report.articles = newest_first(report.articles)
