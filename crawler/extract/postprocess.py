"""Line-by-line clean-up of the extracted text (``_postprocess``).

Drops link-list runs, newsletter/follow/"read more"/credit/disclosure lines, the
headline and the byline/date lines above the text, and trailing "related"/comment
sections. Each rule can be switched off through the flags (see body.DEFAULT_FLAGS)."""

from __future__ import annotations

import re
from typing import Iterable

from crawler.extract.clean import LINK_MARK, LISTLINK_MARK
from crawler.extract.text import _MONTHS, _clean_ws, _norm

_DATE_WORDS = re.compile(
    r"^(?:(?:" + _MONTHS + r"|mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:rs(?:day)?)?|fri(?:day)?|"
    r"sat(?:urday)?|sun(?:day)?|am|pm|a|m|p|at|on|of|the|th|st|nd|rd|utc|gmt|[ecmp][sd]?t|"
    r"updated|published|posted|last|modified|first|\d+[a-z]*)\b[\s,.:/|·•\-–—]*)+$",
    re.I,
)

_BOILER_LINE_RES = [
    re.compile(p, re.I)
    for p in (
        # "read more" style cross links
        r"^(?:read more|read also|also read|related|related articles?|related stories|related content|"
        r"related coverage|see more|see also|more|more from|more on|watch|listen|recommended|"
        r"don[’']t miss|must read|trending|top stories|editor[’']s picks?|read next|"
        r"click here|tap here|most read|popular)\s*(?::|\||»|›|>|–|—|-{1,2}\s)",
        r"^(?:related (?:articles?|stories|posts|content|coverage|links|reading)|more (?:stories|news|articles|"
        r"from [\w .’'&-]{1,40}|on this (?:story|topic))|most (?:read|popular|viewed|shared)(?: [\w .’'-]{0,40})?|"
        r"popular (?:on|in) [\w .’'-]{1,40}|trending(?: now| stories)?|you (?:may|might) (?:also )?like|"
        r"recommended(?: for you| stories| articles)?|don[’']t miss|read next|what to read next|"
        r"share (?:this|the) (?:article|story|post)|share on \w+|advertisement|sponsored(?: content)?|"
        r"story continues below(?: advertisement)?|continue reading(?: below| the main story)?|"
        r"scroll to continue(?: with content)?|comments?|\d+ comments?|leave a (?:comment|reply)|"
        r"post (?:a )?comment(?: \(\+\))?|tell us what you think\W*|join the (?:conversation|discussion)|"
        r"print(?: article| this article)?|order reprints?|text size|email this article|"
        r"sign up|subscribe(?: now)?|log ?in|sign in)\W*$",
        # newsletters / subscription / app promos
        r"^(?=.{0,250}$)(?=.*\bnewsletters?\b).*\b(?:sign up|subscribe|inbox)\b",
        r"^(?=.{0,250}$)(?=.*\binbox\b).*\b(?:sign up|subscribe|delivered|get the latest)\b",
        r"^(?=.{0,250}$).*\bdelivered (?:to|through) your (?:inbox|letterbox|door)\b",
        r"^(?=.{0,200}$).*\b(?:get|download) (?:the|our) [\w ’'-]{0,40} app\b",
        r"^click here to (?:subscribe|sign up|join|follow|register)",
        # social follow / contact lines
        r"^follow (?:us|him|her|them|me|[\w’'.&@-]+(?: [\w’'.&@-]+){0,5}) on (?:twitter|facebook|instagram|"
        r"linkedin|youtube|tiktok|threads|mastodon|bluesky|x\b)",
        r"^(?:follow|like) (?:us|him|her) (?:on|@)",
        r"^follow .{0,100}\bat https?://\S+$",
        r"^more [\w’' .-]{1,40}:\s*https?://\S+",
        r"^(?:e-?mail|contact|reach|write to|message) (?:the )?(?:author|writer|reporters?|[\w’'.-]+(?: [\w’'.-]+){0,3}) "
        r"(?:at|on|via) (?:\S+@\S+|@\w|https?://|twitter|x\b|linkedin|facebook|signal|instagram)",
        r"\bmay be reached at\b|\bcan be reached at\b|^have a (?:news )?tip\b|^got a (?:news )?tip\b",
        # credits
        r"\bcontributed (?:to )?(?:this|the) (?:report|story|article)\W*$",
        r"^(?:additional |with )?(?:reporting|writing|editing) by\b",
        r"^\(?(?:reporting|writing|editing|compiled) by\b",
        r"^(?:contributing|additional reporting|source|sources|via|image credit|photo credit|credit)\s*:",
        # copyright, reprint and legal furniture
        r"for your personal,? non-commercial use only",
        r"^this (?:material|article|story) may not be (?:published|reproduced)",
        # disclosures and promos
        r"\b(?:may|might) (?:earn|get|receive|collect) (?:a )?(?:small )?(?:affiliate )?commission\b",
        r"\b(?:may|might) (?:earn|get|receive|collect) a (?:small )?share of (?:the )?sales?\b",
        r"\bas an amazon associate\b",
        r"\baffiliate (?:links?|commission)\b.{0,80}$",
        r"^if you (?:enjoyed|liked|value|appreciate)(?: reading)? this (?:article|story|post|content)",
        # subscription walls
        r"^(?:subscribe|sign in|log in|register)(?: now)? to (?:keep|continue) reading",
        r"^this (?:article|story|content|post|page) is (?:only )?(?:available |reserved )?(?:for|to) "
        r"(?:paying |premium )?(?:subscribers|members)\b",
        r"^already (?:a subscriber|have an account)\b",
        r"^start your free trial\b",
        # page chrome
        r"^(?:filed under|tags?|topics?|categories|category|posted in|share this|share)\s*:",
        r"^(?:updated|published|posted|last updated|first published|last modified)\b\s*:?\s(?=.*\d).{0,60}$",
        r"^\d+\s*(?:min(?:ute)?s?|mins?)\.? read\W*$",
        r"^(?:reading time|tempo de leitura|lesezeit|temps de lecture|tiempo de lectura)\s*:",
        r"^(?:an error has occurred|something went wrong),? please try again",
    )
]

# Section headings after which the rest of the text is page furniture
_TAIL_HEAD_RE = re.compile(
    r"^(?:related (?:articles?|stories|posts|content|coverage|links|reading)|more (?:stories|news|articles|"
    r"from [\w .’'&-]{1,40})|most (?:read|popular|viewed|shared)(?: [\w .’'-]{0,40})?|popular (?:on|in) "
    r"[\w .’'-]{1,40}|you (?:may|might) (?:also )?like|recommended(?: for you| stories| articles)?|read next|"
    r"what to read next|comments?|\d+ comments?|leave a (?:comment|reply)|join the (?:conversation|discussion)|"
    r"tell us what you think\W*|about the author|about the authors)\W*$",
    re.I,
)

_BYLINE_LINE_RE = re.compile(
    r"^(?:by|words by|written by|text by|story by|posted by|publicado por|von|par|por|di)\s+"
    r"[\w’'.\- ]{2,80}(?:\s*(?:[|,/·•–—-]|and|&)\s*[\w’'.\- ]{2,60}){0,4}$|^(?:by|por|par|von|di)\s*:?$",
    re.I,
)
# "05/10/2018 - Published by: X - Category: Y" style meta lines above the text
_META_LINE_RE = re.compile(
    r"\b(?:by|por|par|von|di|door|av|posted|published|publicado|publié|veröffentlicht|author|autor|"
    r"updated|category|categoria|tags)\b",
    re.I,
)


# "- Patrick Shanley" / "— Jane Doe" closing an article
_SIGNATURE_RE = re.compile(r"^[-–—]\s*[A-Z][\w’'.-]+(?:\s+[A-Z][\w’'.-]+){1,3}$")


def _is_meta_line(line: str) -> bool:
    s = line.strip()
    return len(s) < 200 and bool(_DATE_SHAPE.search(s)) and bool(_META_LINE_RE.search(s))


def _is_boiler_line(line: str) -> bool:
    s = line.strip().lstrip("-•*·▶►> ").strip()
    if not s:
        return False
    if len(s) > 400:
        return False
    for rx in _BOILER_LINE_RES:
        if rx.search(s):
            return True
    return False


_DATE_SHAPE = re.compile(
    r"\b(?:" + _MONTHS + r")\b|\b\d{1,4}[./-]\d{1,2}[./-]\d{2,4}\b|\b\d{1,2}:\d{2}\b", re.I
)


def _is_date_line(line: str) -> bool:
    s = line.strip()
    if not s or len(s) > 80:
        return False
    return bool(_DATE_WORDS.match(s)) and any(ch.isdigit() for ch in s) and bool(_DATE_SHAPE.search(s))


def _title_variants(titles: Iterable[str]) -> list[str]:
    out: list[str] = []
    for t in titles:
        t = _clean_ws(t)
        if not t:
            continue
        out.append(_norm(t))
        for part in re.split(r"\s+[|\-–—:·•»]\s+|\s+::\s+", t):
            n = _norm(part)
            if len(n.split()) >= 3:
                out.append(n)
    return [o for o in dict.fromkeys(out) if o]


def _is_title_line(line: str, variants: list[str]) -> bool:
    n = _norm(line)
    if not n:
        return False
    for v in variants:
        if n == v:
            return True
        # the line is the title with a site suffix, or the title truncated
        if len(n) >= 20 and (v.startswith(n) or n.startswith(v)) and min(len(n), len(v)) >= 0.7 * max(len(n), len(v)):
            return True
    return False


def _is_heading_like(line: str) -> bool:
    s = line.strip().lstrip("-•* ").strip()
    return 0 < len(s) <= 70 and not s.endswith((".", "?", "!", ":", ";", ",", "\"", "”")) or bool(
        0 < len(s) <= 40 and s.endswith(":")
    )


def _drop_link_lines(lines: list[str], flags: dict[str, bool]) -> list[str]:
    strong = [LINK_MARK in ln for ln in lines]
    weak = [LISTLINK_MARK in ln for ln in lines]
    n = len(lines)
    drop = [False] * n
    if flags.get("link_runs", True):
        k = 0
        while k < n:
            if strong[k]:
                j = k
                while j < n and strong[j]:
                    j += 1
                if j - k >= 2:
                    for m in range(k, j):
                        drop[m] = True
                    if flags.get("link_prev_head", True) and k > 0 and not strong[k - 1] and _is_heading_like(lines[k - 1]):
                        drop[k - 1] = True
                k = j
            else:
                k += 1
    if flags.get("link_tail", True):
        k = n - 1
        while k >= 0 and (strong[k] or drop[k] or (flags.get("listlink_tail", True) and weak[k])):
            drop[k] = True
            k -= 1
    return [ln for ln, d in zip(lines, drop) if not d]


def _postprocess(text: str, titles: list[str], flags: dict[str, bool], urls: Iterable[str] = ()) -> str:
    lines = [ln.rstrip() for ln in text.replace("\r", "\n").split("\n")]
    lines = [ln for ln in lines if ln.replace(LINK_MARK, "").replace(LISTLINK_MARK, "").strip()]
    if not lines:
        return ""
    if flags.get("links", True):
        lines = _drop_link_lines(lines, flags)
    lines = [ln.replace(LINK_MARK, "").replace(LISTLINK_MARK, "") for ln in lines]
    lines = [ln for ln in lines if ln.strip()]
    if flags.get("lines", True):
        lines = [ln for ln in lines if not _is_boiler_line(ln)]
        page_urls = {u.strip().rstrip("/") for u in urls if u}
        if page_urls:
            lines = [ln for ln in lines if ln.strip().rstrip("/") not in page_urls]
    variants = _title_variants(titles)
    # leading header lines: title, byline, date
    if flags.get("lead", True):
        i = 0
        while i < len(lines) and i < 6:
            ln = lines[i]
            if variants and _is_title_line(ln, variants):
                i += 1
                continue
            if _is_date_line(ln) or _BYLINE_LINE_RE.match(ln.strip()):
                i += 1
                continue
            if flags.get("meta_lead", True) and _is_meta_line(ln):
                i += 1
                continue
            break
        lines = lines[i:]
        if flags.get("title_any", True) and variants:
            # the headline repeated further down (sticky headers, share boxes)
            full = {v for v in variants if len(v.split()) >= 4}
            lines = [ln for ln in lines if _norm(ln) not in full]
    # trailing furniture sections
    if flags.get("tail", True) and len(lines) > 3:
        cut = None
        start = max(1, int(len(lines) * 0.5))
        for k in range(start, len(lines)):
            if _TAIL_HEAD_RE.match(lines[k].strip().lstrip("-•* ").strip()):
                cut = k
                break
        if cut is not None:
            lines = lines[:cut]
    if flags.get("lines", True):
        # trailing byline/date/signature lines
        while lines and (
            _is_date_line(lines[-1]) or _BYLINE_LINE_RE.match(lines[-1].strip()) or _SIGNATURE_RE.match(lines[-1].strip())
        ):
            lines.pop()
    return "\n".join(lines).strip()
