"""Every dashboard page, run with streamlit's AppTest over a small real store indexed by the real service."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.dashboard_world import APP, HOSTILE_SCRIPT, HOSTILE_TITLE, point_app_at, unescape_md

pytestmark = pytest.mark.slow  # the app loads the embedding model once per process
TIMEOUT = 120


def open_page(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()  # the entry registers the pages
    if page:
        at.switch_page(page)
        at.query_params.update(params)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def links(at: AppTest) -> list[tuple[str, str]]:
    """Page links on screen, in order: (rendered label, query string)."""
    return [(unescape_md(p.value).strip("*"), p.proto.query_string) for p in at.page_link]


def article_links(at: AppTest) -> dict[str, str]:
    """Article links on screen, in order: rendered label → query string (the last of equal labels)."""
    return {label: qs for label, qs in links(at) if qs.startswith("article=")}


def article_count(at: AppTest) -> int:
    return sum(qs.startswith("article=") for _, qs in links(at))


def texts(at: AppTest) -> str:
    parts = [t.value for t in at.text] + [m.value for m in at.markdown] + [c.value for c in at.caption]
    return "\n".join(unescape_md(p) for p in parts)


# ---- Latest ---------------------------------------------------------------------------------------------
def test_latest_lists_newest_articles_linking_to_their_article_page(app_env):
    at = open_page()
    assert at.title[0].value == "Latest"
    shown = article_links(at)
    ids = app_env.ids
    newest = "Why Volkswagen bets $5 billion on Rivian's software architecture"
    assert list(shown)[0] == newest  # newest first
    assert shown[newest] == f"article={ids['vw_rivian_2']}"
    assert "gigadrive · 2025-04-01 00:00 UTC · #volkswagen, #rivian, #software" in texts(at)  # source · date · tags
    assert article_count(at) == 16  # everything fits one page of 20


def test_latest_filters_by_source_tag_and_dates(app_env):
    at = open_page()
    at.selectbox(key="latest_source").select("circuitchassis").run()
    assert set(article_links(at)) == {"Waymo opens robotaxi rides in Austin with Uber",
                                      "Volkswagen to invest up to $5 billion in Rivian software joint venture",
                                      "Report 2: EV tax credit expiry", "Report 5: charging network reliability survey",
                                      "Report 8: sodium-ion cells reach small cars"}
    assert at.query_params["source"] == "circuitchassis"  # the filtered view is a shareable URL
    at.selectbox(key="latest_source").select("All")
    at.selectbox(key="latest_tag").select("charging").run()
    assert set(article_links(at)) == {"BYD unveils 1,000 kW flash charging that adds 400 km in five minutes",
                                      "BYD's megawatt charger: 400 km of range in five minutes",
                                      "Report 5: charging network reliability survey"}
    at.selectbox(key="latest_tag").select("All")
    from datetime import date

    at.date_input(key="latest_dates").set_value((date(2025, 3, 21), date(2025, 3, 22))).run()
    assert set(article_links(at)) == {"BYD unveils 1,000 kW flash charging that adds 400 km in five minutes",
                                      "BYD's megawatt charger: 400 km of range in five minutes"}


def test_latest_keyword_and_semantic_search(app_env):
    at = open_page()
    at.text_input(key="latest_q").input("Rivian").run()
    assert set(article_links(at)) == {"Volkswagen to invest up to $5 billion in Rivian software joint venture",
                                      "Why Volkswagen bets $5 billion on Rivian's software architecture"}
    at.text_input(key="latest_q").input("ultra-fast charging of electric cars")
    at.segmented_control(key="latest_mode").set_value("semantic").run()
    found = list(article_links(at))
    assert found and found[0].startswith("BYD")  # closest in meaning, with no word in common required
    assert "match " in texts(at)
    assert not at.exception


def test_latest_pages_through_the_store(app_env):
    at = open_page()
    at.selectbox(key="latest_per_page").select(10).run()
    first = links(at)
    assert article_count(at) == 10 and at.button(key="latest_newer").disabled
    at.button(key="latest_older").click().run()
    second = links(at)
    assert article_count(at) == 6 and not set(first) & set(second)
    assert at.button(key="latest_older").disabled
    at.button(key="latest_newer").click().run()
    assert links(at) == first


# ---- Article --------------------------------------------------------------------------------------------
def test_article_page_shows_the_article_its_related_articles_copies_and_story(app_env):
    ids = app_env.ids
    at = open_page("views/article.py", article=str(ids["vw_rivian"]))
    assert unescape_md(at.title[0].value) == "Volkswagen to invest up to $5 billion in Rivian software joint venture"
    page = texts(at)
    assert "voltwire · by Ada Writer" in page and "published 2025-03-31 12:00 UTC" in page
    assert "mentions: volkswagen, rivian, xpeng" in page  # entities beside the tags, as a line of their own
    assert "Volkswagen will invest up to $5 billion in Rivian" in "\n".join(t.value for t in at.text)
    assert [s.value for s in at.subheader] == ["Related articles", "Also in", "Story"]
    assert at.get("link_button")[0].proto.url.startswith("https://voltwire.example/")
    shown = article_links(at)
    related = "Why Volkswagen bets $5 billion on Rivian's software architecture"
    assert shown[related] == f"article={ids['vw_rivian_2']}"
    assert "score 0." in page  # with its score and its reason
    copy = "circuitchassis: Volkswagen to invest up to $5 billion in Rivian software joint venture"
    assert shown[copy] == f"article={ids['vw_rivian_copy']}"  # Also in: the syndicated copy
    story = [p for p in at.page_link if p.proto.query_string.startswith("story=")]
    assert story, "the article's story is linked"


def markdown_strings(at: AppTest) -> list[str]:
    """Every string on screen that Streamlit interprets as Markdown."""
    elements = [*at.title, *at.header, *at.subheader, *at.markdown, *at.caption, *at.page_link, *at.metric]
    return [e.value if not hasattr(e, "label") else f"{e.label} {e.value}" for e in elements] + [
        b.proto.label for b in at.get("link_button")]


def test_article_page_shows_hostile_text_as_text(app_env):
    at = open_page("views/article.py", article=str(app_env.ids["hostile"]))
    assert unescape_md(at.title[0].value) == HOSTILE_TITLE
    assert HOSTILE_SCRIPT in at.text[0].value and "**Not bold** [click me](javascript:alert(1))" in at.text[0].value
    assert not at.get("link_button"), "a javascript: URL is never a link"
    assert not at.get("imgs") and not at.get("image"), "a javascript: lead image is never loaded"
    for md in markdown_strings(at):  # scraped text reaches Markdown only escaped
        assert not re.search(r"(?<!\\)<(script|img|b)\b", md), md
        assert "](javascript" not in md and not re.search(r"(?<!\\)\*\*(Not bold|stars)", md), md
    assert all("pwned" not in h.proto.body for h in at.get("html"))


def test_article_page_without_an_id_or_with_an_unknown_one(app_env):
    assert "Open an article" in open_page("views/article.py").info[0].value
    assert "no article 999999" in open_page("views/article.py", article="999999").error[0].value
    assert "not an article number" in open_page("views/article.py", article="1;drop").error[0].value


@pytest.mark.parametrize("raw", ["²", "٣", "99999999999999999999", "9223372036854775808", "-5", "0", "1e3",
                                 " 12 34", "x" * 5000])
def test_a_malformed_article_or_story_id_gets_a_message_never_a_traceback(app_env, raw):
    at = open_page("views/article.py", article=raw)  # open_page asserts that no exception reached the page
    assert "not an article number" in at.error[0].value
    assert len(at.error[0].value) < 200  # the echo of the link is cut short
    assert open_page("views/stories.py", story=raw).title[0].value == "Stories"  # the list instead


def test_an_unexpected_error_shows_no_details_in_the_browser(app_env, monkeypatch):
    from dashboard import data

    def broken(*_args):
        raise RuntimeError("secret internal detail at /srv/newsagg/store.py line 42")

    monkeypatch.setattr(data, "article", broken)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.switch_page("views/article.py")
    at.query_params.update({"article": "1"})
    at.run()
    assert at.exception  # the page failed …
    shown = at.exception[0]
    assert "secret" not in shown.message and "RuntimeError" not in (shown.proto.type or "")
    assert not shown.stack_trace  # … and the browser learns nothing about why (the log has it)


# ---- Stories, Sources & crawls, Map ---------------------------------------------------------------------
def test_stories_page_lists_stories_and_a_story_lists_its_coverage(app_env):
    at = open_page("views/stories.py")
    stories = [p for p in at.page_link if p.proto.query_string.startswith("story=")]
    assert stories and at.get("plotly_chart")
    assert "2 outlets: gigadrive, voltwire" in texts(at)
    story_id = stories[0].proto.query_string.split("=")[1]
    at = open_page("views/stories.py", story=story_id)
    assert [m.label for m in at.metric][:2] == ["Articles", "Outlets"]
    coverage = article_links(at)
    assert len(coverage) >= 2 and all(qs.startswith("article=") for qs in coverage.values())
    assert at.get("plotly_chart")  # its timeline
    assert "There is no story 999999" in open_page("views/stories.py", story="999999").error[0].value


def test_sources_page_shows_counts_runs_and_skips_as_charts(app_env):
    at = open_page("views/sources.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Articles"] == "16" and metrics["Last run"] == "#1 finished"
    assert metrics["Skipped in last run"] == "3"
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [c["layout"].get("title", {}).get("text", "") for c in charts]
    assert {"Articles per source", "What each run found", "Skips by reason, per run"} <= set(titles)
    assert any(t.startswith("Articles per day") for t in titles)
    assert len(at.dataframe) == 2  # sources table, runs table


def test_map_page_projects_embedded_articles(app_env):
    at = open_page("views/map.py")
    (chart,) = at.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    hover = [title for trace in spec["data"] for title in trace["hovertext"]]
    assert len(hover) == 16  # every article is embedded, so every one is a point
    hover = json.dumps(hover)
    assert "&lt;script&gt;" in hover and "<script>" not in hover  # Plotly shows entities as text
    at.segmented_control(key="map_colour").set_value("story").run()
    assert not at.exception


def test_every_page_explains_an_empty_store(monkeypatch, tmp_path):
    point_app_at(monkeypatch, f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)
    assert "No articles yet" in open_page().info[0].value
    for page in ("views/article.py", "views/stories.py", "views/sources.py", "views/map.py"):
        assert open_page(page).info, page


def test_sources_page_charts_source_health_and_flags_a_template_change(monkeypatch, tmp_path):
    from newsagg.models import SourceHealth
    from newsagg.store import Store

    url = f"sqlite:///{tmp_path / 'health.db'}"
    store = Store(url)
    for name in ("voltwire", "gigadrive"):  # as a crawl registers its sources
        store.ensure_source(name, f"https://{name}.example/")
    for n in range(3):  # two healthy runs, then voltwire's pages lose their dates
        run = store.start_run("", ["voltwire", "gigadrive"])
        store.finish_run(run, "finished", {"pages": 40}, {})
        store.save_source_health([
            SourceHealth(run_id=run, source="voltwire", pages=20, stored=20, missing_body=0, missing_title=0,
                         missing_date=19 if n == 2 else 0, missing_author=0, median_body_words=400, skips={}),
            SourceHealth(run_id=run, source="gigadrive", pages=20, stored=18, missing_body=0, missing_title=0,
                         missing_date=0, missing_author=2, median_body_words=350, skips={"off_topic": 2}),
        ])
    store.close()
    point_app_at(monkeypatch, url, tmp_path)
    at = open_page("views/sources.py")
    assert [w.value for w in at.warning] == [
        "voltwire: run 3: 95% of pages without date, usually 0% — template change?"]
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    health = next(c for c in charts if c["layout"]["title"]["text"].startswith("Source health per run"))
    assert {trace["name"] for trace in health["data"]} == {"voltwire", "gigadrive"}
    at.segmented_control(key="sources_health_figure").set_value("missing date").run()
    assert not at.exception
