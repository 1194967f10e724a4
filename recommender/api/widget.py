"""The "Related Articles" HTML fragment: static markup, every scraped string escaped, links only to http(s).

It needs no script. Its one <style> element is allowed by hash in the Content-Security-Policy, which also says
who may frame it (`api.frame_ancestors`).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Sequence
from html import escape

from newsagg.urls import is_http_url
from newsagg.refs import ArticleRef

log = logging.getLogger(__name__)

STYLE = (
    ".newsagg-related{font:14px/1.4 system-ui,sans-serif;margin:0;padding:.5em}"
    ".newsagg-related h2{font-size:1.1em;margin:0 0 .4em}"
    ".newsagg-related ol{margin:0;padding-left:1.2em}"
    ".newsagg-related li{margin:.3em 0}"
    ".newsagg-related .meta{color:#666;font-size:.85em}"
)
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# A CSP source expression: no whitespace, separators or quotes except in the quoted keywords.
_SOURCE = re.compile(r"^(?:'(?:self|none)'|\*|[A-Za-z][A-Za-z0-9+.-]*:|(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^\s;,'\"]+)$")


def content_security_policy(frame_ancestors: Sequence[str]) -> str:
    """Nothing but the fragment's own style may load; framing as configured ('none' if nothing valid is)."""
    allowed = []
    for source in frame_ancestors:
        if source.isascii() and source.isprintable() and _SOURCE.match(source):
            allowed.append(source)
        else:
            log.warning("ignoring invalid frame_ancestors entry %r", source)
    if "'none'" in allowed and len(allowed) > 1:
        allowed.remove("'none'")
    ancestors = " ".join(allowed) or "'none'"
    return (f"default-src 'none'; style-src '{STYLE_HASH}'; base-uri 'none'; form-action 'none'; "
            f"frame-ancestors {ancestors}")


def legacy_frame_options(frame_ancestors: Sequence[str]) -> str | None:
    """X-Frame-Options for browsers without CSP frame-ancestors; it can only say none or same origin."""
    if list(frame_ancestors) == ["'none'"]:
        return "DENY"
    if list(frame_ancestors) == ["'self'"]:
        return "SAMEORIGIN"
    return None


def related_fragment(items: Sequence[ArticleRef], heading: str = "Related Articles") -> str:
    parts = [f'<section class="newsagg-related"><style>{STYLE}</style><h2>{escape(heading)}</h2>']
    if not items:
        parts.append("<p>No related articles yet.</p>")
    else:
        parts.append("<ol>")
        parts.extend(_item(item) for item in items)
        parts.append("</ol>")
    parts.append("</section>")
    return "".join(parts)


def _item(item: ArticleRef) -> str:  # a RelatedItem from the cache, or any reference
    title = escape(item.title or item.url, quote=True)
    if is_http_url(item.url):
        # target=_top: inside an iframe the reader goes to the article, not a page squeezed into the frame
        link = f'<a href="{escape(item.url.strip(), quote=True)}" target="_top" rel="noopener">{title}</a>'
    else:
        link = title
    meta = escape(item.source, quote=True)
    if item.published is not None:
        meta += f" · {item.published.date().isoformat()}"
    return f'<li>{link} <span class="meta">{meta}</span></li>'
