"""Tests for crawler.extract: metadata, body cleaning, dates, authors and hostile input."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from crawler.extract import (
    ExtractedArticle,
    ExtractOverrides,
    clean_authors,
    extract_article,
    extract_body,
    parse_date,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "extract"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


# ----------------------------------------------------------------------------- JSON-LD page


@pytest.fixture(scope="module")
def jsonld_article() -> ExtractedArticle:
    return extract_article(
        fixture("jsonld_article.html"),
        "https://www.example-motors.test/2024/03/28/solid-state-battery-pilot-line?utm_source=feed",
    )


def test_jsonld_metadata(jsonld_article: ExtractedArticle) -> None:
    a = jsonld_article
    assert a.title == "Solid-state battery pilot line opens in Ohio"
    # Person names cleaned ("By ..."), the Organization author dropped
    assert a.authors == ["Maria Keller", "Tom O'Neill"]
    assert a.published == utc(2024, 3, 28, 17, 20)  # -07:00 offset converted
    assert a.updated == utc(2024, 3, 28, 18, 5)
    assert a.published.tzinfo is not None and a.published.utcoffset().total_seconds() == 0
    assert a.language == "en"
    assert a.lead_image == "https://cdn.example-motors.test/img/pilot-line.jpg"
    assert a.summary.startswith("A start-up has opened a pilot line")
    assert a.tags == ["batteries", "EV", "Ohio"]  # deduplicated, order kept
    assert a.site_name == "Example Motors Daily"
    assert a.paywalled is False
    assert a.is_article is True


def test_canonical_and_amp(jsonld_article: ExtractedArticle) -> None:
    # relative <link rel=canonical> made absolute against the fetch URL
    assert jsonld_article.canonical_url == "https://www.example-motors.test/2024/03/28/solid-state-battery-pilot-line"
    assert jsonld_article.amp_url == "https://www.example-motors.test/amp/2024/03/28/solid-state-battery-pilot-line"
    assert jsonld_article.url.endswith("utm_source=feed")


def test_body_keeps_article_and_drops_boilerplate(jsonld_article: ExtractedArticle) -> None:
    body = jsonld_article.body
    assert body.startswith("A battery start-up opened a pilot production line")
    assert "yields on the new line will decide" in body
    assert len(body.split("\n")) == 5  # one line per paragraph
    for boiler in (
        "Solid-state battery pilot line opens in Ohio",  # headline
        "By Maria Keller",  # byline
        "newsletter",
        "Sign up",
        "sodium-ion",  # related stories
        "Wake me up",  # comments
        "comments",
        "Share on",
        "All rights reserved",
        "Home",
    ):
        assert boiler not in body, boiler
    assert jsonld_article.body_source.startswith("trafilatura")


# ----------------------------------------------------------------------------- @graph page


def test_graph_metadata_date_in_source_zone_and_paywall() -> None:
    a = extract_article(
        fixture("graph_article.html"), "https://techledger.test/chips/fab-delay", default_timezone="Asia/Shanghai"
    )
    assert a.title == "Chipmaker delays its 2-nanometre fab"
    assert a.authors == ["Li Wei"]
    # "2024-03-28 22:40" has no offset: read in Asia/Shanghai (+08:00), stored in UTC
    assert a.published == utc(2024, 3, 28, 14, 40)
    assert a.tags == ["semiconductors", "fabs", "Taiwan"]
    assert a.site_name == "Tech Ledger"
    assert a.canonical_url == "https://techledger.test/chips/fab-delay"
    assert a.lead_image == "https://techledger.test/img/fab.jpg"
    assert a.paywalled is True  # isAccessibleForFree "False" + hasPart cssSelector
    assert "two-nanometre factory" in a.body
    assert "Cloud prices rise again" not in a.body  # "most read" sidebar
    assert a.is_article


# ----------------------------------------------------------------------------- OpenGraph only


def test_opengraph_only_page() -> None:
    a = extract_article(
        fixture("og_only.html"), "https://auto-news.test/werk-sachsen-e-transporter", default_timezone="Asia/Shanghai"
    )
    assert a.title == "Werk in Sachsen stellt auf E-Transporter um"
    assert a.authors == ["Jane Doe", "John Roe"]  # "By Jane Doe and John Roe | Staff"
    assert a.published == utc(2024, 3, 28, 14, 40)
    assert a.updated == utc(2024, 3, 28, 15, 55)  # "28.03.2024, 23:55" day-first, +08:00
    assert a.language == "de"
    assert a.lead_image == "https://auto-news.test/bilder/werk.jpg"  # relative og:image made absolute
    assert a.summary == "Ab dem Sommer laufen in Zwickau nur noch elektrische Lieferwagen vom Band."
    assert a.tags == ["Elektromobilität", "Sachsen", "Transporter"]
    assert a.site_name == "Auto News Test"
    assert a.canonical_url == "https://auto-news.test/werk-sachsen-e-transporter"
    assert "ausschließlich elektrische Transporter" in a.body
    assert "Abo" not in a.body and "Teilen" not in a.body
    assert a.is_article


# ----------------------------------------------------------------------------- no metadata at all


def test_byline_page_without_metadata() -> None:
    a = extract_article(
        fixture("byline_only.html"),
        "https://riverside.test/news/2024/03/28/scooters",
        default_timezone="America/Chicago",
    )
    assert a.title == "City council approves new e-scooter rules"
    assert a.authors == ["Jane Doe", "John Roe"]
    assert a.published == utc(2024, 3, 29, 3, 40)  # "Posted: 2024-03-28 22:40" in Chicago (CDT, -05:00)
    assert a.canonical_url is None and a.amp_url is None
    assert a.language == "en"  # guessed from the text
    assert a.summary.startswith("The city council voted seven to two")
    body = a.body
    assert body.startswith("The city council voted")
    assert "legal challenge" in body
    for boiler in ("By Jane Doe", "Posted:", "Read more", "newsletter", "scooterhater", "Finally!", "bakery", "Contact us"):
        assert boiler not in body, boiler
    assert a.is_article


# ----------------------------------------------------------------------------- meta line, no metadata

META_URL = "https://harbour-motor.test/2024/05/06/battery-swap-stations-guangdong.html"
META_PARAS = "".join(
    f"<p>{t}</p>"
    for t in (
        "The number of battery swap stations in Guangdong province passed two thousand at the end of the month.",
        "Most of the new stations were built along the motorways, where ride-hailing drivers do most swaps.",
        "Operators said a swap now takes less than five minutes at the busiest stations in the province.",
    )
)


def meta_page(title: str, top: str, bottom: str = "") -> str:
    """A page without JSON-LD/OpenGraph: <title>, some blocks above the text, some below."""
    return (
        f"<html><head><title>{title}</title></head><body>"
        '<div class="logo"><a href="/">Harbour Motor Report</a></div>'
        f'{top}<div class="content">{META_PARAS}</div>{bottom}</body></html>'
    )


def test_meta_line_page_without_structured_metadata() -> None:
    a = extract_article(fixture("meta_line.html"), META_URL, default_timezone="Asia/Shanghai")
    # "Site - Headline" <title> cut to the part shown in the <h2> headline
    assert a.title == "Battery swap stations pass the two thousand mark in Guangdong"
    # "Author:" in the info line, up to the &nbsp;&nbsp; gap; not "Source:", not the "Editor:" line
    assert a.authors == ["Wang Fang", "Liu Qiang"]
    assert a.published == utc(2024, 5, 6, 1, 30)  # "2024-05-06 09:30" read in Asia/Shanghai
    assert a.body.startswith("The number of battery swap stations")
    assert "Editor" not in a.body and "Author:" not in a.body
    assert a.is_article


@pytest.mark.parametrize(
    ("title", "top", "expected"),
    [
        # site prefix, headline in an <h2>
        ("Harbour Motor Report - Swap stations pass 2,000", "<h2>Swap stations pass 2,000</h2>", "Swap stations pass 2,000"),
        # headline | section | site: only the headline part
        ("Swap stations pass 2,000 | Industry | HMR", "<h2>Swap stations pass 2,000</h2>", "Swap stations pass 2,000"),
        # the headline itself contains separators
        (
            "Harbour Motor Report - Nio: swap stations - what comes next",
            "<h2>Nio: swap stations - what comes next</h2>",
            "Nio: swap stations - what comes next",
        ),
        # an <h1> logo with the site's name is skipped; the headline <h2> is used
        (
            "Harbour Motor Report - Swap stations pass 2,000",
            '<h1 class="site"><a href="/">Harbour Motor Report</a></h1><h2>Swap stations pass 2,000</h2>',
            "Swap stations pass 2,000",
        ),
        # sidebar <h2>s are not headlines (else the title would be cut to "Most read")
        (
            "Harbour Motor Report - Swap stations pass 2,000 - Most read",
            '<div class="sidebar"><h2>Most read</h2></div>',
            "Harbour Motor Report - Swap stations pass 2,000",
        ),
    ],
)
def test_title_cut_to_the_part_shown_as_headline(title: str, top: str, expected: str) -> None:
    assert extract_article(meta_page(title, top), META_URL).title == expected


def test_title_part_equal_to_site_name_is_not_the_title() -> None:
    # the only <h2> near the top shows the site's name (same text as the home link)
    html = meta_page("Harbour Motor Report - Swap stations pass 2,000", "<h2>Harbour Motor Report</h2>")
    assert extract_article(html, META_URL).title == "Harbour Motor Report - Swap stations pass 2,000"
    # ... or it is known from the host name: a leading "Site - " is dropped from <title>
    html = meta_page("Harbour Motor - Swap stations pass two thousand", "<h2>Harbour Motor</h2>")
    assert extract_article(html, "https://harbourmotor.test/2024/05/06/swap").title == "Swap stations pass two thousand"


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ("Source: HMR&nbsp;&nbsp;Author: Wang Fang, Liu Qiang&nbsp;&nbsp;2024-05-06 09:30", ["Wang Fang", "Liu Qiang"]),
        ("Authors: Wang Fang and Liu Qiang 2024-05-06", ["Wang Fang", "Liu Qiang"]),  # stops at the date
        ("Writer: Wang Fang Source: Xinhua", ["Wang Fang"]),  # stops at the next label
        ("Reporter: Wang Fang | Last updated: 06.05.2024", ["Wang Fang"]),
        ("Text: Wang Fang, May 6, 2024", ["Wang Fang"]),
        ("Words by Wang Fang &middot; Photos: Liu Qiang", ["Wang Fang"]),
        # source formatting: line breaks and indentation are not a separator
        ('Author:\n  <a href="/a/1">Wang Fang</a>,\n  <a href="/a/2">Liu Qiang</a>\n  <span>06.05.2024</span>', ["Wang Fang", "Liu Qiang"]),
    ],
)
def test_labelled_byline_in_meta_block(info: str, expected: list[str]) -> None:
    html = meta_page("Swap stations pass 2,000", f'<div class="info">{info}</div>')
    assert extract_article(html, META_URL).authors == expected


@pytest.mark.parametrize(
    "top, bottom",
    [
        ('<div class="info">Source: Harbour Motor Report</div>', '<div class="editor">Editor: Zhou Lan</div>'),
        ('<div class="info">Source: HMR&nbsp;&nbsp;Editor: Zhou Lan&nbsp;&nbsp;2024-05-06 09:30</div>', ""),
        ('<div class="info">Author: Harbour Motor Report</div>', ""),  # the site, not a person
        ("<p>Source: HMR Author: Wang Fang</p>", ""),  # a label outside any meta/info/byline block
    ],
)
def test_no_author_without_an_author_label(top: str, bottom: str) -> None:
    assert extract_article(meta_page("Swap stations pass 2,000", top, bottom), META_URL).authors == []


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ("Source: HMR&nbsp;&nbsp;Author: Wang Fang&nbsp;&nbsp;2024-05-06 09:30", utc(2024, 5, 6, 1, 30)),
        ("Author: Wang Fang&nbsp;&nbsp;2024/05/06 09:30", utc(2024, 5, 6, 1, 30)),
        ("Author: Wang Fang&nbsp;&nbsp;06.05.2024 09:30", utc(2024, 5, 6, 1, 30)),  # day first
        ("Author: Wang Fang&nbsp;&nbsp;2024-05-06 09:30 UTC", utc(2024, 5, 6, 9, 30)),  # explicit zone wins
        ("Author: Wang Fang&nbsp;&nbsp;2024-05-06", utc(2024, 5, 5, 16, 0)),  # date only: midnight local
    ],
)
def test_date_in_meta_block_read_in_source_zone(info: str, expected: datetime) -> None:
    html = meta_page("Swap stations pass 2,000", f'<div class="info">{info}</div>')
    assert extract_article(html, META_URL, default_timezone="Asia/Shanghai").published == expected


def test_no_date_from_text_outside_meta_blocks() -> None:
    html = meta_page("Swap stations pass 2,000", "<p>Plans for 2024-05-06 09:30 were announced.</p>")
    assert extract_article(html, META_URL, default_timezone="Asia/Shanghai").published is None


# ----------------------------------------------------------------------------- paywall, index pages


def test_paywall_markup_with_short_body() -> None:
    a = extract_article(fixture("paywall_markup.html"), "https://lidar.test/2024/03/27/cheaper-lidar")
    assert a.paywalled is True
    assert a.body.startswith("Three years ago a lidar sensor")
    assert "subscribers only" not in a.body
    assert "Subscribe to keep reading" not in a.body


def test_full_free_article_is_not_paywalled() -> None:
    a = extract_article(fixture("og_only.html"), "https://auto-news.test/werk-sachsen-e-transporter")
    assert a.paywalled is False


def test_index_page_is_not_an_article() -> None:
    a = extract_article(fixture("index_page.html"), "https://www.example-motors.test/category/electric-cars/")
    assert a.is_article is False
    assert a.canonical_url == "https://www.example-motors.test/category/electric-cars/"


def test_homepage_is_not_an_article() -> None:
    a = extract_article(fixture("jsonld_article.html"), "https://www.example-motors.test/")
    assert a.is_article is False


# ----------------------------------------------------------------------------- overrides


def test_override_body_selector_and_drop_selectors() -> None:
    html = fixture("byline_only.html")
    a = extract_article(
        html,
        "https://riverside.test/news/2024/03/28/scooters",
        overrides=ExtractOverrides(body_selector="#story", drop_selectors=["p.byline", "p.date", ".newsletter"]),
    )
    assert a.body_source == "override"
    assert "The city council voted seven to two" in a.body
    assert "scooterhater" not in a.body
    assert "By Jane Doe" not in a.body


def test_override_with_bad_selector_falls_back() -> None:
    # The registry refuses such selectors; the extractor must still survive one that slipped past (no validation).
    with pytest.raises(ValueError):
        ExtractOverrides(body_selector="div[[[")
    a = extract_article(
        fixture("byline_only.html"),
        "https://riverside.test/news/2024/03/28/scooters",
        overrides=ExtractOverrides.model_construct(body_selector="div[[[", drop_selectors=["::bogus(", ""]),
    )
    assert a.body_source.startswith("trafilatura")
    assert "The city council voted" in a.body


def test_jsonld_body_used_when_html_is_a_teaser() -> None:
    paragraphs = [
        "The automaker confirmed on Monday that its new mid-size electric pickup will start at under forty thousand dollars.",
        "Deliveries are scheduled to begin in the autumn, first in California and Texas, then nationwide early next year.",
        "The company said its new battery plant would supply the packs, and that a longer-range version would follow.",
        "Reservations opened at noon and the company's website briefly went down under the load, a spokesperson said.",
        "Analysts said the price undercuts most rivals and could pressure competitors to lower prices on their own trucks.",
    ]
    ld_body = "\\n".join(paragraphs)
    html = f"""<html><head><title>Pickup price revealed</title>
    <script type="application/ld+json">{{"@type": "NewsArticle", "headline": "Pickup price revealed",
      "articleBody": "{ld_body}", "isAccessibleForFree": false}}</script></head>
    <body><article><h1>Pickup price revealed</h1><div class="article-body"><p>{paragraphs[0]}</p></div>
    <div class="paywall"><p>Subscribe to continue reading.</p></div></article></body></html>"""
    a = extract_article(html, "https://cars.test/2024/pickup-price")
    assert a.body_source == "jsonld"
    assert a.body.split("\n") == paragraphs
    assert a.paywalled is True


# ----------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2024-03-28 22:40", "Asia/Shanghai", utc(2024, 3, 28, 14, 40)),
        ("2024-03-28T22:40:00+08:00", "UTC", utc(2024, 3, 28, 14, 40)),
        ("2024-03-28T10:20:00Z", "Asia/Shanghai", utc(2024, 3, 28, 10, 20)),
        ("March 28, 2024 at 10:20 a.m. PT", "Europe/Berlin", utc(2024, 3, 28, 17, 20)),  # PDT in March
        ("January 5, 2024 at 10:20 a.m. PT", "Europe/Berlin", utc(2024, 1, 5, 18, 20)),  # PST in January
        ("5:45 AM PST 11/19/2019", "UTC", utc(2019, 11, 19, 13, 45)),
        ("Updated 10:20 AM ET, Thu March 28, 2024", "UTC", utc(2024, 3, 28, 14, 20)),
        ("28.03.2024, 16:40", "Europe/Berlin", utc(2024, 3, 28, 15, 40)),
        ("Thu, 28 Mar 2024 10:20:00 GMT", "Asia/Tokyo", utc(2024, 3, 28, 10, 20)),
        # CST is ambiguous (US Central / China Standard): the source's zone applies
        ("March 28, 2024 10:20 PM CST", "Asia/Shanghai", utc(2024, 3, 28, 14, 20)),
        ("1711621200", "UTC", utc(2024, 3, 28, 10, 20)),  # epoch seconds
    ],
)
def test_parse_date_to_utc(text: str, zone: str, expected: datetime) -> None:
    got = parse_date(text, zone)
    assert got == expected
    assert got.tzinfo is not None and got.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("text", ["", "garbage", "next Tuesday", "1990-05-01", "2999-01-01", "31/31/2024", None, 12])
def test_parse_date_rejects_bad_or_implausible(text: object) -> None:
    assert parse_date(text, "UTC") is None


def test_parse_date_unknown_zone_name_falls_back_to_utc() -> None:
    assert parse_date("2024-03-28 22:40", "Not/AZone") == utc(2024, 3, 28, 22, 40)


# ----------------------------------------------------------------------------- authors


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (["By Jane Doe and John Roe | Staff"], ["Jane Doe", "John Roe"]),
        (["BY JANE DOE AND JOHN ROE"], ["Jane Doe", "John Roe"]),
        (["Words by Jane Doe, John Roe"], ["Jane Doe", "John Roe"]),
        (["Author: Jane Doe; John Roe"], ["Jane Doe", "John Roe"]),
        (["Jane Doe", "jane doe", "John Roe"], ["Jane Doe", "John Roe"]),
        (["Sarah E. Needleman"], ["Sarah E. Needleman"]),
        (["Jane Doe, Staff Writer"], ["Jane Doe"]),
        (["Reuters", "Associated Press", "AP", "Example Motors Daily"], []),
        (["jane@example.test", "https://example.test/jane", "@janedoe"], []),
        (["Jane Doe <jane@example.test>"], ["Jane Doe"]),
        (["Jane Doe (Reuters)"], ["Jane Doe"]),
    ],
)
def test_clean_authors(raw: list[str], expected: list[str]) -> None:
    assert clean_authors(raw, org_names=["Example Motors Daily"]) == expected


# ----------------------------------------------------------------------------- hostile input


def test_empty_and_non_html_inputs_do_not_raise() -> None:
    for html in ("", "   ", None, b"", b"\x00\x01\x02", "<html></html>"):
        a = extract_article(html, "https://x.test/a")  # type: ignore[arg-type]
        assert isinstance(a, ExtractedArticle)
        # nothing to extract: empty fields (strings, not None), no control characters echoed back
        assert (a.title, a.body, a.summary, a.authors, a.published) == ("", "", "", [], None), (html, a)
        assert a.is_article is False
    for text in ("plain text, no markup", "<"):  # text without markup is kept as text, never taken for an article
        plain = extract_article(text, "https://x.test/a")
        assert (plain.title, plain.body, plain.is_article) == ("", text, False)
    assert extract_body("") == ""
    assert extract_body(None) == ""  # type: ignore[arg-type]


def test_broken_jsonld_is_skipped() -> None:
    html = fixture("jsonld_article.html").replace('"headline":', '"headline": {{ broken,')
    a = extract_article(html, "https://www.example-motors.test/2024/03/28/solid-state-battery-pilot-line")
    assert a.title == "Solid-state battery pilot line opens in Ohio"  # from og:title
    assert "pilot production line" in a.body
    assert a.authors == ["Maria Keller", "Tom O'Neill"]  # byline text still found


def test_script_in_title_is_not_returned() -> None:
    html = (
        "<html><head><title>Great <script>alert(1)</script> news</title>"
        '<meta property="og:title" content="&lt;script&gt;alert(2)&lt;/script&gt;Headline here"></head>'
        "<body><h1>Headline <script>alert(3)</script>here</h1>"
        + "<p>Body text of the article that is long enough to be extracted as a paragraph.</p>" * 5
        + "</body></html>"
    )
    a = extract_article(html, "https://x.test/2024/a")
    assert "<script" not in a.title.lower()
    assert "alert" not in a.title
    assert "Headline" in a.title


def test_javascript_and_data_urls_are_never_returned() -> None:
    html = (
        '<html><head><link rel="canonical" href="javascript:alert(1)">'
        '<link rel="amphtml" href="data:text/html,hi">'
        '<meta property="og:url" content="  JavaScript:alert(2)">'
        '<meta property="og:image" content="data:image/png;base64,AAAA">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "mainEntityOfPage": "javascript:x()",'
        ' "image": "javascript:y()"}</script></head><body>'
        '<img src="javascript:z()"><img src="data:image/gif;base64,R0lG">'
        + "<p>Body text of the article that is long enough to be extracted as a paragraph.</p>" * 5
        + "</body></html>"
    )
    a = extract_article(html, "https://x.test/2024/a")
    assert a.canonical_url is None
    assert a.amp_url is None
    assert a.lead_image is None


def test_huge_nested_divs_finish_quickly() -> None:
    html = "<html><body>" + "<div>" * 1_000_000 + "text" + "</div>" * 1_000_000 + "</body></html>"  # ~11 MB
    start = time.perf_counter()
    a = extract_article(html, "https://x.test/a")
    assert time.perf_counter() - start < 5
    assert isinstance(a, ExtractedArticle)


@pytest.mark.slow
def test_huge_flat_page_is_bounded() -> None:
    html = "<html><body><article>" + "<p>Some paragraph text that goes on for a while.</p>" * 100_000
    start = time.perf_counter()
    a = extract_article(html, "https://x.test/a")
    assert time.perf_counter() - start < 10
    assert isinstance(a.body, str)


def test_huge_attribute_values_and_bad_bytes() -> None:
    html = fixture("jsonld_article.html").replace(
        "<main>", '<main class="' + "x" * 2_000_000 + '" data-junk="' + "\udcff" * 1000 + '">'
    )
    a = extract_article(html, "https://www.example-motors.test/2024/03/28/solid-state-battery-pilot-line")
    assert "pilot production line" in a.body
    raw = fixture("jsonld_article.html").encode("utf-8") + b"\xff\xfe\x80 stray bytes"
    assert "pilot production line" in extract_article(raw, "https://x.test/2024/a").body  # type: ignore[arg-type]


def test_extract_body_matches_article_body() -> None:
    html = fixture("jsonld_article.html")
    url = "https://www.example-motors.test/2024/03/28/solid-state-battery-pilot-line"
    assert extract_body(html, url) == extract_article(html, url).body


def test_prose_resembling_boilerplate_is_kept() -> None:
    paragraphs = [
        "The start-up said on Monday that its newsletter now reaches two million subscribers every week, up from a few thousand in 2021.",
        "Published in 2019, the original study found that most drivers charge at home rather than at public stations.",
        "Shareholders may get a share of the proceeds if the sale of the battery unit goes ahead later this year.",
        "Reach the summit on foot and you will see the wind farm that now powers the valley's two car plants.",
        "The feature is available to subscribers of the premium tier, which costs ten dollars a month in the US.",
        "More than four hundred engineers work on the software, according to people familiar with the project.",
    ]
    html = (
        "<html><head><title>A test story about batteries</title></head><body><article><h1>A test story about batteries</h1>"
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + "</article></body></html>"
    )
    a = extract_article(html, "https://news.test/2024/03/28/a-test-story-about-batteries")
    assert a.body.split("\n") == paragraphs


def test_cjk_dates_are_read_in_the_source_timezone():
    from datetime import datetime, timezone

    from crawler.extract import parse_date

    assert parse_date("2024年04月03日 20:10", "Asia/Shanghai") == datetime(2024, 4, 3, 12, 10, tzinfo=timezone.utc)
    assert parse_date("发布时间：2024年4月3日", "UTC") == datetime(2024, 4, 3, tzinfo=timezone.utc)
