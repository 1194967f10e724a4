"""RSS 2.0, Atom, sitemap, sitemap-index and Google News sitemap documents for the demo outlets."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime
from html import escape

from newsagg.demo.content import DemoPage

Entry = tuple[DemoPage | None, str]  # (page, the URL the feed links; page None = a dead link)
_PLACEHOLDER = datetime(2024, 5, 31, 9, 0, tzinfo=timezone.utc)


def _x(text: str) -> str:
    return escape(text, quote=True)


def render_rss(title: str, base: str, entries: list[Entry]) -> str:
    items = []
    for page, url in entries:
        a = page.article if page else None
        when = a.published if a else _PLACEHOLDER
        authors = "".join(f"<dc:creator>{_x(n)}</dc:creator>" for n in (a.authors if a else ()))
        items.append(
            f"<item><title>{_x(a.title if a else 'Pulled story')}</title><link>{_x(url)}</link>"
            f"<guid isPermaLink=\"true\">{_x(url)}</guid><pubDate>{format_datetime(when)}</pubDate>"
            f"{authors}<description>{_x(a.summary if a else '')}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{_x(title)}</title><link>{_x(base)}/</link><description>Latest from {_x(title)}</description>"
        + "".join(items)
        + "</channel></rss>"
    )


def render_atom(title: str, base: str, entries: list[Entry]) -> str:
    items = []
    for page, url in entries:
        a = page.article if page else None
        when = (a.updated or a.published) if a else _PLACEHOLDER
        authors = "".join(f"<author><name>{_x(n)}</name></author>" for n in (a.authors if a else ()))
        published = (a.published if a else _PLACEHOLDER).isoformat()
        items.append(
            f"<entry><title>{_x(a.title if a else 'Retracted review')}</title><link rel=\"alternate\" href=\"{_x(url)}\"/>"
            f"<id>{_x(url)}</id><published>{published}</published><updated>{when.isoformat()}</updated>"
            f"{authors}<summary>{_x(a.summary if a else '')}</summary></entry>"
        )
    newest = max((p.article.published for p, _ in entries if p), default=_PLACEHOLDER)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{_x(title)}</title><id>{_x(base)}/</id><link href=\"{_x(base)}/\"/>"
        f"<updated>{newest.isoformat()}</updated>" + "".join(items) + "</feed>"
    )


def render_sitemap(items: list[tuple[str, datetime]]) -> str:
    urls = "".join(f"<url><loc>{_x(u)}</loc><lastmod>{when.isoformat()}</lastmod></url>" for u, when in items)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>')


def render_sitemap_index(urls: list[str]) -> str:
    maps = "".join(f"<sitemap><loc>{_x(u)}</loc></sitemap>" for u in urls)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{maps}</sitemapindex>')


def render_news_sitemap(publication: str, items: list[tuple[str, str, datetime]]) -> str:
    urls = "".join(
        f"<url><loc>{_x(u)}</loc><news:news><news:publication><news:name>{_x(publication)}</news:name>"
        f"<news:language>en</news:language></news:publication>"
        f"<news:publication_date>{when.isoformat()}</news:publication_date><news:title>{_x(title)}</news:title>"
        f"</news:news></url>"
        for u, title, when in items
    )
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>')
