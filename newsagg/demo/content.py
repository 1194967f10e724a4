"""The demo sites' content: articles from `content/events/*.json`, page oddities from `content/specials.json`.

Each article becomes one or more `DemoPage`s with a site-relative path; the server turns paths into URLs once it
knows its ports, and `ground_truth()` says what a correct crawl does with every page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path

CONTENT_DIR = Path(__file__).resolve().parent / "content"
OUTLETS = ("voltwire", "circuitchassis", "autopulse", "gigadrive")


@dataclass(frozen=True)
class DemoArticle:
    event_id: str
    topic: str
    on_topic: bool
    outlet: str
    slug: str
    title: str
    published: datetime
    updated: datetime | None
    authors: tuple[str, ...]
    summary: str
    keywords: tuple[str, ...]
    body: tuple[str, ...]


@dataclass(frozen=True)
class DemoPage:
    """One HTML page on one outlet, and what a correct crawl should do with it."""

    outlet: str
    path: str
    article: DemoArticle
    # stored | syndicated | paywalled | skipped/<reason> | duplicate (e.g. AMP twin, tracking-parameter twin)
    expect: str = "stored"
    canonical: tuple[str, str] | None = None  # (outlet, path) the page declares as rel=canonical
    original: tuple[str, str] | None = None  # (outlet, path) this page is a syndicated copy of
    defect: str | None = None  # truncated | wrong-charset | no-charset | http-404
    paywalled: bool = False
    intro: str | None = None  # a line a syndicating outlet puts above a copied text
    extra: dict = field(default_factory=dict)


def _parse_article(event: dict, raw: dict) -> DemoArticle:
    return DemoArticle(
        event_id=event["event_id"],
        topic=event["topic"],
        on_topic=bool(event.get("on_topic", True)),
        outlet=raw["outlet"],
        slug=raw["slug"],
        title=raw["title"],
        published=datetime.fromisoformat(raw["published"]),
        updated=datetime.fromisoformat(raw["updated"]) if raw.get("updated") else None,
        authors=tuple(raw["authors"]),
        summary=raw["summary"],
        keywords=tuple(raw.get("keywords", ())),
        body=tuple(raw["body"]),
    )


@lru_cache(maxsize=1)
def load_articles() -> tuple[DemoArticle, ...]:
    """Every article of every event file, sorted by publication time."""
    articles = []
    for path in sorted((CONTENT_DIR / "events").glob("*.json")):
        event = json.loads(path.read_text(encoding="utf-8"))
        articles.extend(_parse_article(event, raw) for raw in event["articles"])
    return tuple(sorted(articles, key=lambda a: (a.published, a.outlet, a.slug)))


def article_path(a: DemoArticle) -> str:
    """Each outlet's own URL scheme."""
    d = a.published
    return {
        "voltwire": f"/{d:%Y/%m/%d}/{a.slug}/",
        "circuitchassis": f"/news/{a.slug}",
        "autopulse": f"/article/{d:%Y%m%d}/{a.slug}.html",
        "gigadrive": f"/stories/{a.slug}",
    }[a.outlet]


def _find(articles: tuple[DemoArticle, ...], event_id: str, outlet: str) -> DemoArticle | None:
    return next((a for a in articles if a.event_id == event_id and a.outlet == outlet), None)


@lru_cache(maxsize=1)
def build_pages() -> tuple[DemoPage, ...]:
    """All pages of all outlets, with the specials of `specials.json` applied."""
    articles = load_articles()
    specials = json.loads((CONTENT_DIR / "specials.json").read_text(encoding="utf-8"))
    pages: dict[tuple[str, str], DemoPage] = {}
    for a in articles:
        expect = "stored" if a.on_topic else "skipped/off_topic"
        pages[(a.outlet, article_path(a))] = DemoPage(a.outlet, article_path(a), a, expect=expect)

    for spec in specials.get("syndicated", []):
        original = _find(articles, spec["event"], spec["from"])
        if original is None:
            continue
        copy = replace(original, outlet=spec["to"], slug=f"{spec['slug_prefix']}-{original.slug}")
        copy = replace(copy, authors=original.authors, published=original.published)
        src = (original.outlet, article_path(original))
        path = article_path(copy)
        pages[(spec["to"], path)] = DemoPage(
            spec["to"], path, copy, expect="syndicated", original=src,
            canonical=src if spec.get("canonical") else None, intro=spec.get("intro"),
        )
    for spec in specials.get("paywalled", []):
        a = _find(articles, spec["event"], spec["outlet"])
        if a is not None:
            key = (a.outlet, article_path(a))
            pages[key] = replace(pages[key], paywalled=True, expect="paywalled")
    for spec in specials.get("defects", []):
        a = _find(articles, spec["event"], spec["outlet"])
        if a is not None:
            key = (a.outlet, article_path(a))
            pages[key] = replace(pages[key], defect=spec["defect"], expect=spec.get("expect", pages[key].expect))
    return tuple(pages.values())


def pages_by_outlet(outlet: str) -> list[DemoPage]:
    return [p for p in build_pages() if p.outlet == outlet]
