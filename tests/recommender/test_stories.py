"""Stories are events: the bundled demo news grouped by event, and no story chaining a topic's events over time."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import numpy as np
import pytest

from newsagg.demo.content import load_articles
from newsagg.models import Article
from recommender.service import RelatedService
from tests.recommender.recommender_helpers import add_article, make_settings

pytestmark = pytest.mark.slow

DEMO_B3_F1_FLOOR = 0.97  # 1.000 when written; 0.89 before stories were bounded in time (one 15-month Xiaomi story)


def b3_f1(labels: list, truth: list) -> float:
    labels, truth = np.asarray(labels), np.asarray(truth)
    p = np.mean([((labels == labels[i]) & (truth == truth[i])).sum() / (labels == labels[i]).sum()
                 for i in range(len(labels))])
    r = np.mean([((labels == labels[i]) & (truth == truth[i])).sum() / (truth == truth[i]).sum()
                 for i in range(len(labels))])
    return float(2 * p * r / (p + r))


def add_demo_article(store, a) -> int:
    return store.add_article(Article(
        url=f"https://{a.outlet}.example/{a.slug}", source_id=store.ensure_source(a.outlet), title=a.title,
        body="\n\n".join(a.body), summary=a.summary, tags=[k.lower() for k in a.keywords], published_at=a.published,
        content_hash=hashlib.sha256(f"{a.outlet}/{a.slug}".encode()).hexdigest(),
    ))


def story_spans_days(service: RelatedService) -> list[float]:
    """Each story's span by its members' publish dates (first_seen/last_seen alone would trust the code under test)."""
    spans = []
    for story in service.stories(min_size=2, limit=1000):
        dates = [a.published for a in story.articles if a.published is not None]
        spans.append((max(dates) - min(dates)).total_seconds() / 86400 if dates else 0.0)
        if dates:
            assert story.first_seen == min(dates) and story.last_seen == max(dates)
    return spans


@pytest.mark.parametrize("updates", ["one batch", "weekly"])
def test_demo_news_stories_are_events(updates, sqlite_store, embedder, tmp_path):
    """39 events over 2021-2025, same-topic look-alikes months apart (Xiaomi SU7 → SU7 Ultra → YU7, US → EU EV
    tariffs) and a week apart (Ford, then GM, adopting NACS): whether indexed at once (a first crawl, a rebuild) or
    week by week, each story is one event."""
    service = RelatedService(sqlite_store, make_settings(tmp_path), embedder=embedder)
    event_of, week = {}, None
    for a in load_articles():  # in publication order
        if updates == "weekly" and week is not None and a.published.isocalendar()[:2] != week:
            service.update_index()
        week = a.published.isocalendar()[:2]
        event_of[add_demo_article(sqlite_store, a)] = a.event_id
    service.update_index()
    story_of = service.story_assignments()
    ids = sorted(event_of)
    f1 = b3_f1([story_of[i] for i in ids], [event_of[i] for i in ids])
    spans = story_spans_days(service)
    print(f"{updates}: B3-F1 {f1:.3f}, stories {len(set(story_of.values()))}, longest {max(spans):.1f} days")
    assert f1 >= DEMO_B3_F1_FLOOR
    assert max(spans) <= service.settings.related.story_max_span_days


ROLLING = [  # one long-running topic, near-identical coverage every two days: average-link alone chains it
    ("Automaker Zephyr recalls Nimbus EV over battery fire risk, day {d}",
     "Zephyr Motors is recalling Nimbus electric cars over a battery fire risk; regulators and Zephyr said on day {d}"
     " that owners should park the Nimbus outside until the battery pack is inspected."),
    ("Zephyr Nimbus battery recall: owners told to park outside (day {d})",
     "Owners of the Zephyr Nimbus EV should park outside while the battery fire recall runs, Zephyr Motors and"
     " regulators said on day {d}."),
]


@pytest.mark.parametrize("updates", ["one batch", "daily"])
def test_a_topic_covered_for_weeks_is_not_one_story(updates, sqlite_store, embedder, tmp_path):
    service = RelatedService(sqlite_store, make_settings(tmp_path), embedder=embedder)
    for day in range(0, 24, 2):
        for i, (title, body) in enumerate(ROLLING):
            add_article(sqlite_store, title.format(d=day), body.format(d=day), source=f"site-{i}", hours=day * 24 + i)
        if updates == "daily":
            service.update_index()
    service.update_index()
    spans = story_spans_days(service)
    assert spans and max(spans) <= service.settings.related.story_max_span_days


def test_an_undated_article_does_not_bridge_two_dated_ones(sqlite_store, embedder, tmp_path):
    service = RelatedService(sqlite_store, make_settings(tmp_path), embedder=embedder)
    title, body = ROLLING[0]
    other_title, other_body = ROLLING[1]
    early = add_article(sqlite_store, title.format(d=1), body.format(d=1), source="site-a", hours=0)
    early_too = add_article(sqlite_store, other_title.format(d=1), other_body.format(d=1), source="site-d", hours=2)
    late = add_article(sqlite_store, title.format(d=30), body.format(d=30), source="site-b", hours=30 * 24)
    late_too = add_article(sqlite_store, other_title.format(d=30), other_body.format(d=30), source="site-e",
                           hours=30 * 24 + 2)
    undated = add_article(sqlite_store, title.format(d="X"), body.format(d="X"), source="site-c", hours=None)
    service.update_index()
    early_story, late_story = service.story(early), service.story(late)
    # Same-day reports do group (an implementation that groups nothing fails here) …
    assert service.story(early_too).story_id == early_story.story_id
    assert service.story(late_too).story_id == late_story.story_id
    # … but the undated look-alike of both does not chain day 1 and day 30 into one story.
    assert early_story.story_id != late_story.story_id
    assert {a.article_id for a in early_story.articles} <= {early, early_too, undated}
    assert {a.article_id for a in late_story.articles} <= {late, late_too, undated}
    for story in (early_story, late_story):
        assert story.last_seen - story.first_seen <= timedelta(days=service.settings.related.story_max_span_days)
