"""`newsagg sources add URL`: find a publisher's feeds and sitemaps from its homepage and verify them.

Feeds: the homepage's `<link rel="alternate">` RSS/Atom/JSON Feed links (trafilatura's `determine_feed`), else
the common paths of `sources.feed_paths`. Sitemaps: robots.txt `Sitemap:` lines (Scrapy's parser, as the spider),
else `sources.sitemap_paths`; indexes are followed one level to find news sitemaps and article URLs. Every
candidate is fetched through the crawler's downloader and parsed by the spider's own parsers; a source is only
proposed when a feed or sitemap works and one of its articles extracts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin, urlsplit

import lxml.html
from scrapy.utils.sitemap import sitemap_urls_from_robots
from trafilatura.feeds import FeedParameters, determine_feed

from crawler.registry import SourceSpec, slugify
from crawler.sources.documents import DocumentReport, newest_first, read_document
from crawler.sources.fetch import Fetcher
from crawler.sources.hints import language_tag, timezone_hint
from crawler.sources.sample import SampleReport, sample_article
from crawler.spiders.news import decode_html
from newsagg.config import Settings
from newsagg.urls import is_http_url


@dataclass
class Homepage:
    url: str  # after redirects
    title: str = ""
    language: str | None = None
    feed_links: list[str] = field(default_factory=list)
    problem: str | None = None


@dataclass
class Discovery:
    """Everything `sources add` found; `spec` is set only when the source verified."""

    asked: str
    homepage: Homepage
    feeds: list[DocumentReport] = field(default_factory=list)
    sitemaps: list[DocumentReport] = field(default_factory=list)
    robots_sitemaps: list[str] = field(default_factory=list)
    sample: SampleReport | None = None
    timezone: str = "UTC"
    timezone_reason: str = ""
    problems: list[str] = field(default_factory=list)
    spec: SourceSpec | None = None


def site_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def read_homepage(fetcher: Fetcher, url: str) -> Homepage:
    got = await fetcher.get(url)
    home = Homepage(got.final_url or url)
    if got.problem:
        home.problem = got.problem
        return home
    html = decode_html(got.response)
    base = home.url
    params = FeedParameters(base, urlsplit(base).hostname or "", base)
    home.feed_links = [u for u in determine_feed(html, params) if is_http_url(u)]
    try:
        tree = lxml.html.fromstring(html.encode("utf-8", "replace"))
    except (ValueError, lxml.etree.ParserError):
        return home
    site_name = tree.xpath("string(//meta[@property='og:site_name']/@content)").strip()
    home.title = site_name or tree.xpath("string(//title)").strip().split(" | ")[0].split(" - ")[0].strip()
    home.language = language_tag(tree.xpath("string(/html/@lang)"),
                                 tree.xpath("string(//meta[@property='og:locale']/@content)"))
    return home


async def find_feeds(fetcher: Fetcher, home: Homepage, settings: Settings, skip: set[str] = frozenset()):
    """Verified feeds: the head links, or else the first common path that parses."""
    kw = {"max_size": settings.crawl.download_maxsize}
    found = [await read_document(fetcher, u, "feed", "head-link", **kw) for u in home.feed_links if u not in skip]
    if any(r.ok for r in found):
        return found
    for path in settings.sources.feed_paths:
        url = urljoin(site_root(home.url) + "/", path.lstrip("/"))
        if url in skip:
            continue
        report = await read_document(fetcher, url, "feed", "common-path", **kw)
        if report.ok:
            return [*found, report]
    return found


async def find_sitemaps(fetcher: Fetcher, root: str, settings: Settings) -> tuple[list[str], list[DocumentReport]]:
    """(robots.txt Sitemap: URLs, reports of every sitemap tried)."""
    kw = {"max_size": settings.crawl.download_maxsize, "index_children": settings.sources.index_children}
    robots = await fetcher.get(root + "/robots.txt")
    listed = []
    if robots.ok:
        text = robots.body[:500_000].decode("utf-8", "replace")
        listed = [u for u in sitemap_urls_from_robots(text, base_url=root + "/") if is_http_url(u)]
    reports = [await read_document(fetcher, u, "sitemap", "robots", **kw) for u in dict.fromkeys(listed)]
    if not any(r.ok for r in reports):
        for path in settings.sources.sitemap_paths:
            url = urljoin(root + "/", path.lstrip("/"))
            reports.append(await read_document(fetcher, url, "sitemap", "common-path", **kw))
    return listed, reports


def article_candidates(documents: list[DocumentReport], spec: SourceSpec) -> list[str]:
    """Article URLs on the source's domains, newest first, feeds before sitemaps."""
    feeds = [d for d in documents if d.ok and d.kind == "feed"]
    sitemaps = [d for d in documents if d.ok and d.kind == "sitemap"]
    urls = [e.url for d in feeds for e in newest_first(d.articles)]
    urls += [e.url for d in sitemaps for e in d.articles]
    return [u for u in dict.fromkeys(urls) if is_http_url(u) and spec.allows(u)]


async def discover(fetcher: Fetcher, url: str, settings: Settings, taken_names: set[str],
                   name: str | None = None) -> Discovery:
    """Find, verify and describe the source at `url`; `Discovery.spec` is its registry entry when it verified."""
    found = Discovery(url, await read_homepage(fetcher, url))
    home = found.homepage
    if home.problem:
        found.problems.append(f"homepage: {home.problem}")
        return found
    found.feeds = await find_feeds(fetcher, home, settings)
    found.robots_sitemaps, found.sitemaps = await find_sitemaps(fetcher, site_root(home.url), settings)
    working = [d for d in found.feeds + found.sitemaps if d.ok]
    if not working:
        found.problems.append("no working feed or sitemap found")
        return found
    draft = _draft_spec(found, name, taken_names)
    dates = [d for doc in working for d in doc.dates]
    found.timezone, found.timezone_reason = timezone_hint(dates, home.language, urlsplit(home.url).hostname or "")
    found.sample = await sample_article(
        fetcher, article_candidates(working, draft), timezone=found.timezone,
        min_words=settings.crawl.min_body_words, attempts=settings.sources.sample_attempts)
    if not found.sample.ok:
        found.problems.append(f"no sample article extracted: {found.sample.problem}")
        return found
    if not dates and found.sample.dates:  # undated feeds: the article page's own dates are the next best hint
        found.timezone, found.timezone_reason = timezone_hint(found.sample.dates, home.language,
                                                              urlsplit(home.url).hostname or "")
    language = language_tag(home.language, found.sample.language) or "en"
    found.spec = draft.model_copy(update={"language": language, "timezone": found.timezone})
    return found


def _draft_spec(found: Discovery, name: str | None, taken: set[str]) -> SourceSpec:
    home = found.homepage
    host = urlsplit(home.url).netloc.lower()
    base = name or slugify(home.title) or slugify(host.removeprefix("www.").split(":")[0]) or "source"
    unique, n = base[:60], 1
    while unique in taken:
        n += 1
        unique = f"{base[:56]}-{n}"
    robots = set(found.robots_sitemaps)
    return SourceSpec(
        name=unique, title=home.title or host, homepage=home.url,
        feeds=[d.moved_to or d.url for d in found.feeds if d.ok],
        sitemaps=[d.moved_to or d.url for d in found.sitemaps if d.ok and d.url not in robots],
        robots_sitemaps=any(d.ok and d.url in robots for d in found.sitemaps),
        allowed_domains=[host.removeprefix("www.")], verified=True, verified_on=date.today(),
    )
