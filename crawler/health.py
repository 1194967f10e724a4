"""Source health: per crawl run and source, how well its pages extract — and when that falls away from its history.

`SourceHealthRecorder` (a Scrapy extension) tallies every extracted article page of the run per source (stored or
dropped by a pipeline): how many lack a body, a title, a date or an author, their median body length, and the
source's skips by reason; it writes one `source_health` row per source when the crawl closes. A publisher that
changes its templates shows up as a jump in those shares or a drop in body length against its own earlier runs:
`health_flags` says which (`newsagg runs` prints them, the dashboard's Sources page charts them).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from scrapy import signals

from crawler.items import ArticleItem
from crawler.pipelines import PAYWALL_MIN_WORDS
from crawler.runtime import SOURCE_SKIP_PREFIX, get_store, newsagg_settings
from newsagg.config import HealthSettings
from newsagg.models import SourceHealth

FIELDS = ("body", "title", "date", "author")
MAX_COUNTED_WORDS = 20_000  # body lengths are kept as a histogram: memory bounded whatever the crawl's size


@dataclass
class _Tally:
    pages: int = 0
    stored: int = 0
    missing: Counter = field(default_factory=Counter)
    body_words: Counter = field(default_factory=Counter)  # words -> pages

    def median_words(self) -> int:
        half, seen = self.pages / 2, 0
        for words in sorted(self.body_words):
            seen += self.body_words[words]
            if seen >= half:
                return words
        return 0


class SourceHealthRecorder:
    def __init__(self, crawler):
        self.crawler = crawler
        self.min_words = newsagg_settings(crawler).crawl.min_body_words
        self.tallies: dict[str, _Tally] = defaultdict(_Tally)
        crawler.signals.connect(self.scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.dropped, signal=signals.item_dropped)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _count(self, item) -> _Tally | None:
        if not isinstance(item, ArticleItem):
            return None
        ex, tally = item.extracted, self.tallies[item.source]
        words = len(ex.body.split())
        tally.pages += 1
        tally.body_words[min(words, MAX_COUNTED_WORDS)] += 1
        tally.missing.update(name for name, lacking in (
            ("body", words < (PAYWALL_MIN_WORDS if ex.paywalled else self.min_words)),
            ("title", not ex.title.strip()), ("date", ex.published is None), ("author", not ex.authors),
        ) if lacking)
        return tally

    def scraped(self, item, response=None, spider=None) -> None:
        if tally := self._count(item):
            tally.stored += 1

    def dropped(self, item, response=None, exception=None, spider=None) -> None:
        self._count(item)

    def closed(self, spider, reason: str) -> None:
        stats = self.crawler.stats.get_stats()
        run_id = stats.get("newsagg/run_id")
        if run_id is None:
            return
        skips: dict[str, dict[str, int]] = defaultdict(dict)
        for key, value in stats.items():
            if key.startswith(SOURCE_SKIP_PREFIX):
                source, _, skip = key[len(SOURCE_SKIP_PREFIX):].rpartition("/")
                skips[source][skip] = int(value)
        names = sorted(set(self.tallies) | set(skips) | {s.name for s in getattr(spider, "sources", [])})
        get_store(self.crawler).save_source_health([self._row(run_id, n, skips.get(n, {})) for n in names])

    def _row(self, run_id: int, source: str, skips: dict[str, int]) -> SourceHealth:
        t = self.tallies.get(source, _Tally())
        return SourceHealth(run_id=run_id, source=source, pages=t.pages, stored=t.stored,
                            missing_body=t.missing["body"], missing_title=t.missing["title"],
                            missing_date=t.missing["date"], missing_author=t.missing["author"],
                            median_body_words=t.median_words(), skips=skips)


# ---- judging a source against its own history ---------------------------------------------------------------
@dataclass(frozen=True)
class HealthFlag:
    source: str
    run_id: int
    metric: str  # missing_body | missing_title | missing_date | missing_author | median_body_words
    value: float
    usual: float  # the median over the source's earlier judged runs

    @property
    def message(self) -> str:
        if self.metric == "median_body_words":
            return (f"{self.source}: run {self.run_id}: median body {self.value:.0f} words, usually "
                    f"{self.usual:.0f} — template change?")
        what = self.metric.removeprefix("missing_")
        return (f"{self.source}: run {self.run_id}: {self.value:.0%} of pages without {what}, usually "
                f"{self.usual:.0%} — template change?")


def share(row: SourceHealth, what: str) -> float:
    """Share of the row's extracted pages missing `what` (body, title, date, author)."""
    return getattr(row, f"missing_{what}") / row.pages if row.pages else 0.0


def flags_for_source(history: list[SourceHealth], cfg: HealthSettings) -> list[HealthFlag]:
    """Flags of one source's latest judged run against its earlier ones (`history`: newest first)."""
    judged = [r for r in history if r.pages >= cfg.min_pages]
    if len(judged) < 1 + cfg.min_history_runs:
        return []
    latest, earlier = judged[0], judged[1 : 1 + cfg.history_runs]
    flags = []
    for what in FIELDS:
        value, usual = share(latest, what), statistics.median(share(r, what) for r in earlier)
        if value - usual >= cfg.share_rise:
            flags.append(HealthFlag(latest.source, latest.run_id, f"missing_{what}", value, usual))
    usual_words = statistics.median(r.median_body_words for r in earlier)
    if usual_words and latest.median_body_words < cfg.body_drop * usual_words:
        flags.append(HealthFlag(latest.source, latest.run_id, "median_body_words",
                                latest.median_body_words, usual_words))
    return flags


def health_flags(rows: Iterable[SourceHealth], cfg: HealthSettings) -> list[HealthFlag]:
    """Flags of every source in `rows` (health rows of recent runs, any order)."""
    by_source: dict[str, list[SourceHealth]] = defaultdict(list)
    for row in rows:
        by_source[row.source].append(row)
    return [flag for name in sorted(by_source)
            for flag in flags_for_source(sorted(by_source[name], key=lambda r: r.run_id, reverse=True), cfg)]
