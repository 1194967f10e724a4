"""HTML of the four demo outlets: each its own layout, metadata style, date format and boilerplate.

- voltwire: JSON-LD NewsArticle, UTC dates, related-links box and comments under the article.
- circuitchassis: OpenGraph + article:* meta only, US Pacific dates written out, newsletter box mid-article.
- autopulse: no structured metadata at all: byline and a local Beijing time without offset in the text.
- gigadrive: JSON-LD @graph, AMP twins, a paywalled teaser, CET dates in European format.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from html import escape
from typing import Callable

from newsagg.demo.content import DemoPage

SITE_NAMES = {
    "voltwire": "VoltWire",
    "circuitchassis": "Circuit & Chassis",
    "autopulse": "AutoPulse Asia",
    "gigadrive": "GigaDrive Daily",
}
UrlFor = Callable[[str, str], str]  # (outlet, path) -> absolute URL


def _paras(paragraphs, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return "\n".join(f"<p{attr}>{escape(p)}</p>" for p in paragraphs)


def _names(authors) -> str:
    names = [escape(a) for a in authors]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _jsonld(data: dict) -> str:
    # "</" must not end the script element early, whatever the text says.
    return '<script type="application/ld+json">' + json.dumps(data).replace("</", "<\\/") + "</script>"


def _body_text(page: DemoPage) -> list[str]:
    body = list(page.article.body)
    if page.paywalled:
        body = body[:2]
    if page.intro:
        body = [page.intro] + body
    return body


def _voltwire(page: DemoPage, url_for: UrlFor) -> str:
    a = page.article
    pub = a.published.astimezone(timezone.utc)
    upd = a.updated.astimezone(timezone.utc) if a.updated else None
    canonical = url_for(*(page.canonical or (page.outlet, page.path)))
    ld = {
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": a.title,
        "datePublished": pub.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dateModified": (upd or pub).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "author": [{"@type": "Person", "name": n} for n in a.authors],
        "publisher": {"@type": "Organization", "name": "VoltWire"},
        "description": a.summary, "keywords": ", ".join(a.keywords),
        "image": url_for("voltwire", f"/img/{a.slug}.jpg"), "mainEntityOfPage": canonical,
    }
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(a.title)} | VoltWire</title>
<link rel="canonical" href="{escape(canonical)}">
<meta name="description" content="{escape(a.summary)}">
{_jsonld(ld)}
</head><body>
<header class="site-header"><a href="/">VoltWire</a><nav><a href="/">EVs</a> <a href="/">Batteries</a>
<a href="/">Charging</a> <a href="/">Policy</a></nav></header>
<main><article class="post">
<h1 class="post-title">{escape(a.title)}</h1>
<div class="byline">By {_names(a.authors)} &middot; <time datetime="{pub.isoformat()}">{pub:%b %d, %Y, %I:%M %p} UTC</time></div>
<figure><img src="/img/{escape(a.slug)}.jpg" alt=""><figcaption>Image: VoltWire</figcaption></figure>
<div class="post-content">
{_paras(_body_text(page))}
</div>
<div class="share">Share this story: <a href="#">X</a> <a href="#">LinkedIn</a> <a href="#">Email</a></div>
<aside class="related-links"><h3>More from VoltWire</h3><ul><li><a href="/">Charging map: where the new
megawatt stations are going</a></li><li><a href="/">Our monthly EV sales tracker</a></li></ul></aside>
<section class="comments"><h3>Comments (3)</h3><div class="comment">Great write-up, thanks!</div>
<div class="comment">Can't wait to see range numbers in winter.</div></section>
</article></main>
<footer>&copy; VoltWire Media. All rights reserved. <a href="/about">About</a> <a href="/privacy">Privacy</a></footer>
</body></html>"""


def _pacific(dt: datetime) -> str:
    from zoneinfo import ZoneInfo

    local = dt.astimezone(ZoneInfo("America/Los_Angeles"))
    hour = local.strftime("%I").lstrip("0")
    ampm = "a.m." if local.hour < 12 else "p.m."
    return f"{local:%B} {local.day}, {local:%Y} at {hour}:{local:%M} {ampm} PT"


def _circuitchassis(page: DemoPage, url_for: UrlFor) -> str:
    a = page.article
    canonical_tag = f'<link rel="canonical" href="{escape(url_for(*page.canonical))}">' if page.canonical else ""
    og_url = url_for(*(page.canonical or (page.outlet, page.path)))
    authors_meta = "\n".join(f'<meta property="article:author" content="{escape(n)}">' for n in a.authors)
    tags_meta = "\n".join(f'<meta property="article:tag" content="{escape(k)}">' for k in a.keywords)
    updated = f'<meta property="article:modified_time" content="{a.updated.isoformat()}">' if a.updated else ""
    body = _body_text(page)
    mid = max(1, len(body) // 2)
    newsletter = ('<div class="newsletter-signup"><strong>Get the Drive Shift newsletter</strong> Every Friday, '
                  'the week in cars and gadgets. <a href="/subscribe">Sign up</a></div>')
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8">
<title>{escape(a.title)}</title>
{canonical_tag}
<meta property="og:type" content="article">
<meta property="og:title" content="{escape(a.title)}">
<meta property="og:description" content="{escape(a.summary)}">
<meta property="og:url" content="{escape(og_url)}">
<meta property="og:site_name" content="Circuit &amp; Chassis">
<meta property="og:image" content="{escape(url_for('circuitchassis', '/media/' + a.slug + '.png'))}">
<meta property="article:published_time" content="{a.published.isoformat()}">
{updated}
{authors_meta}
{tags_meta}
</head><body>
<div id="top-bar"><a href="/">Circuit &amp; Chassis</a> | Gadgets | Cars | Reviews | Deals</div>
<div class="layout"><div class="main-col">
<h1>{escape(a.title)}</h1>
<p class="dek">{escape(a.summary)}</p>
<p class="meta">Words by {_names(a.authors)} &mdash; {_pacific(a.published)}</p>
<div class="entry">
{_paras(body[:mid])}
{newsletter}
{_paras(body[mid:])}
</div>
<div class="tags">Filed under: {' '.join(f'<a href="/tag/{escape(k)}">{escape(k)}</a>' for k in a.keywords)}</div>
</div>
<div class="sidebar"><h4>Trending</h4><ol><li><a href="/">The best e-bikes of the year</a></li>
<li><a href="/">We drove every cheap EV so you don't have to</a></li><li><a href="/">Deals: USB-C chargers</a></li></ol></div>
</div>
<div class="footer">Circuit &amp; Chassis is an independent publication. Terms | Privacy | Cookie settings</div>
</body></html>"""


def _autopulse(page: DemoPage, url_for: UrlFor) -> str:
    from zoneinfo import ZoneInfo

    a = page.article
    local = a.published.astimezone(ZoneInfo("Asia/Shanghai"))
    return f"""<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>AutoPulse Asia - {escape(a.title)}</title>
</head>
<body>
<table width="100%"><tr><td class="logo">AutoPulse Asia</td><td class="menu">Home | Industry | New Cars | Data</td></tr></table>
<div class="crumbs">Home &gt; Industry &gt; News</div>
<div class="headline"><h2>{escape(a.title)}</h2></div>
<div class="info">Source: AutoPulse Asia&nbsp;&nbsp;Author: {', '.join(escape(n) for n in a.authors)}&nbsp;&nbsp;{local:%Y-%m-%d %H:%M}</div>
<div class="content" id="text">
{_paras(_body_text(page))}
</div>
<div class="editor">Editor: {escape(a.authors[-1])}</div>
<div class="hot"><b>Hot news</b><br><a href="/">Weekly insurance registrations</a><br><a href="/">Price cuts tracker</a></div>
<div class="copyright">Copyright AutoPulse Asia. Reproduction without permission is prohibited.</div>
</body>
</html>"""


def _gigadrive(page: DemoPage, url_for: UrlFor, amp: bool = False) -> str:
    a = page.article
    self_url = url_for(page.outlet, page.path)
    canonical = url_for(*page.canonical) if page.canonical else self_url
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "GigaDrive Daily", "url": url_for("gigadrive", "/")},
            {"@type": "Article", "headline": a.title, "datePublished": a.published.isoformat(),
             "dateModified": (a.updated or a.published).isoformat(),
             "author": [{"@type": "Person", "name": n, "url": url_for("gigadrive", "/author/x")} for n in a.authors],
             "isAccessibleForFree": not page.paywalled, "inLanguage": "en",
             "image": {"@type": "ImageObject", "url": url_for("gigadrive", f"/images/{a.slug}.webp")},
             "description": a.summary, "keywords": list(a.keywords)},
        ],
    }
    paywall = ('<div class="paywall"><h3>Continue reading with GigaDrive Plus</h3><p>Subscribe for unlimited '
               'access to all our stories. Cancel any time.</p><a href="/subscribe">Subscribe now</a></div>'
               if page.paywalled else "")
    head_links = (f'<link rel="canonical" href="{escape(canonical)}">' if amp or page.canonical else
                  f'<link rel="amphtml" href="{escape(url_for("gigadrive", "/amp" + page.path))}">')
    amp_attr = " amp" if amp else ""
    return f"""<!doctype html>
<html{amp_attr} lang="en-GB"><head><meta charset="utf-8">
<title>{escape(a.title)} – GigaDrive Daily</title>
{head_links}
<meta name="viewport" content="width=device-width">
{_jsonld(graph)}
</head><body>
<header><div class="brand">GigaDrive Daily</div><ul class="menu"><li>Phones</li><li>Cars</li><li>Smart home</li></ul>
<div class="cookie-banner">We use cookies to improve your experience. <button>Accept</button></div></header>
<article>
<h1>{escape(a.title)}</h1>
<div class="author-box">By {' &amp; '.join(escape(n) for n in a.authors)} | {a.published:%d.%m.%Y, %H:%M}</div>
<div class="article-body">
{_paras(_body_text(page))}
</div>
{paywall}
</article>
<section class="recommended"><h2>You might also like</h2><a href="/">Best phones under 500 euros</a>
<a href="/">Our favourite robot vacuums</a></section>
<footer>GigaDrive Daily &middot; Imprint &middot; Data protection</footer>
</body></html>"""


def render_article(page: DemoPage, url_for: UrlFor, amp: bool = False) -> str:
    if page.outlet == "gigadrive":
        return _gigadrive(page, url_for, amp=amp)
    return {"voltwire": _voltwire, "circuitchassis": _circuitchassis, "autopulse": _autopulse}[page.outlet](
        page, url_for
    )


def render_redesigned(page: DemoPage) -> str:
    """The same article after a redesign into a client-rendered app: the text moves into a JSON blob a script
    renders, the structured metadata and the byline are gone — the template change that breaks extraction silently."""
    a = page.article
    state = json.dumps({"headline": a.title, "paragraphs": _body_text(page)}).replace("</", "<\\/")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(a.title)} | "
            f"{escape(SITE_NAMES[page.outlet])}</title></head><body><div id='app'><h1>{escape(a.title)}</h1>"
            f"<div class='story-root' data-hydrate='story'></div></div>"
            f"<script id='__STATE__' type='application/json'>{state}</script><script src='/static/app.js'></script>"
            f"</body></html>")


def render_home(outlet: str, pages: list[DemoPage], url_for: UrlFor) -> str:
    items = "\n".join(
        f'<li><a href="{escape(url_for(outlet, p.path))}">{escape(p.article.title)}</a></li>' for p in pages[:30]
    )
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(SITE_NAMES[outlet])}</title></head>"
            f"<body><h1>{escape(SITE_NAMES[outlet])}</h1><ul>{items}</ul></body></html>")
