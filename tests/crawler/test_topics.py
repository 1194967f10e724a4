"""Tags that mean "about" (crawler/topics.py) and the lexicon's guards (crawler/lexicon.py), on fixtures written
for these tests and on the demo article the issue complained about."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.lexicon import load_lexicon
from crawler.topics import default_tagger
from newsagg.demo.content import load_articles

FIXTURES = json.loads((Path(__file__).parents[1] / "fixtures" / "topics" / "articles.json").read_text())


def mentioned(text: str) -> set[str]:
    return {m.tag for m in load_lexicon().mentions(text)}


@pytest.mark.parametrize("text, absent, present", [
    ("The car keeps adaptive cruise control but loses lane-centring.", {"cruise"}, set()),
    ("Cruise control was the starting point.", {"cruise"}, set()),
    ("GM's Super Cruise now covers more roads.", {"cruise"}, {"gm"}),
    ("California suspended Cruise's driverless permits.", set(), {"cruise"}),
    ("Apple orchards brace for frost; the apple harvest is late.", {"apple"}, set()),
    ("Apple cancelled its car; CarPlay stays.", set(), {"apple"}),
    ("Sony Honda Mobility showed the Afeela 1.", {"honda"}, {"sony-honda"}),
    ("It was a lucid explanation of the polestar of policy.", {"lucid", "polestar"}, set()),
    ("It costs as much as a Lucid Air or a Polestar 3.", set(), {"lucid", "polestar"}),
    ("Harrison Ford arrived at the premiere.", {"ford"}, set()),
])
def test_guards_keep_ambiguous_names_apart(text, absent, present):
    found = mentioned(text)
    assert not absent & found and present <= found


@pytest.mark.parametrize("case", FIXTURES, ids=[c["key"] for c in FIXTURES])
def test_tags_are_what_an_article_is_about_and_mentions_are_entities(case):
    topics = default_tagger().topics(case["title"], case["summary"], case["body"])
    assert set(case["about"]) <= set(topics.tags)
    assert not set(case["not_about"]) & set(topics.tags), topics.salience
    assert set(topics.entities) == set(case["entities"])


def test_passing_mention_is_an_entity_not_a_tag():
    case = next(c for c in FIXTURES if c["key"] == "tesla_with_passing_byd")
    topics = default_tagger().topics(case["title"], case["summary"], case["body"])
    assert topics.entities[0] == "tesla" and "byd" in topics.entities and "byd" not in topics.tags


def test_demo_cheaper_model_y_is_about_tesla_only():
    """The issue's example: the cheaper Model Y article carried #xiaomi #byd #nio and #cruise."""
    tagger = default_tagger()
    articles = [a for a in load_articles() if a.event_id == "tesla-cheaper-model-y-standard"]
    assert len(articles) == 4
    for a in articles:
        topics = tagger.topics(a.title, a.summary, "\n".join(a.body))
        companies = [t for t in topics.tags if tagger.lexicon.kinds[t] == "company"]
        assert companies == ["tesla"], (a.outlet, topics.tags)
        assert "cruise" not in topics.entities


def test_theme_needs_more_than_one_passing_word():
    tagger = default_tagger()
    passing = tagger.topics("Tesla opens a new store in Berlin", "", "Tesla opened a store in Berlin. "
                            "Staff showed the Model Y. A charging cable hung on the wall. Visitors queued all day.")
    assert "charging" not in passing.tags and "charging" in passing.salience
    focused = tagger.topics("Tesla opens charging network to other brands", "",
                            "Tesla opened its fast-charging network. Chargers now accept other cars. "
                            "Charging costs more for non-Tesla drivers. The network has 12,000 chargers.")
    assert "charging" in focused.tags
