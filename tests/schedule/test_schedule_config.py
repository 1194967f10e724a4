"""Schedule configuration: groups from newsagg.toml / env, intervals, cron lines, the crawl command of a group."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from newsagg.config import ScheduleGroup, Settings
from newsagg.app.schedule import Scheduler, make_trigger, parse_every


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("15m", 900), ("1h30m", 5400), ("1d", 86400),
                                           ("45", 45), ("2s", 2), ("0.5s", 0.5), ("1H 5M", 3900)])
def test_intervals(text, seconds):
    assert parse_every(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "fortnightly", "15x", "0s", "5m later"])
def test_bad_intervals_are_refused(text):
    with pytest.raises(ValueError):
        parse_every(text)


def test_default_groups_split_feeds_and_sitemaps(clean_env):
    groups = Settings().schedule.groups
    assert [(g.name, g.discover, g.every, g.cron) for g in groups] == [
        ("feeds", "feeds", "15m", None), ("sitemaps", "sitemaps", None, "0 * * * *")]


def test_groups_from_toml(clean_env):
    (clean_env / "newsagg.toml").write_text(
        '[schedule]\ntimezone = "Europe/Berlin"\n'
        '[[schedule.groups]]\nname = "cn"\nsources = ["cnevpost", "carnewschina"]\ndiscover = "feeds"\nevery = "5m"\n'
        '[[schedule.groups]]\nname = "nightly"\nsources = ["*"]\ncron = "30 2 * * *"\n', encoding="utf-8")
    cfg = Settings().schedule
    assert [g.name for g in cfg.groups] == ["cn", "nightly"] and cfg.timezone == "Europe/Berlin"
    assert cfg.groups[0].sources == ["cnevpost", "carnewschina"] and cfg.groups[1].discover == "all"
    trigger = make_trigger(cfg.groups[1], cfg.timezone)
    assert "hour='2'" in str(trigger) and "minute='30'" in str(trigger)
    assert make_trigger(cfg.groups[0], cfg.timezone).interval == timedelta(minutes=5)


def test_groups_from_env(clean_env, monkeypatch):
    monkeypatch.setenv("NEWSAGG_SCHEDULE__GROUPS", '[{"name": "fast", "every": "2s", "discover": "feeds"}]')
    assert Settings().schedule.groups == [ScheduleGroup(name="fast", every="2s", discover="feeds")]


@pytest.mark.parametrize("bad, match", [
    ({"name": "x"}, "exactly one of `every` or `cron`"),
    ({"name": "x", "every": "1m", "cron": "* * * * *"}, "exactly one"),
    ({"name": "x", "every": "1m", "discover": "robots"}, "discover"),
    ({"name": "a b", "every": "1m"}, "name"),
    ({"name": "x", "every": "1m", "evry": "2m"}, "evry"),
])
def test_bad_groups_are_clear_errors(bad, match):
    with pytest.raises(ValidationError, match=match):
        ScheduleGroup(**bad)


def test_bad_cron_line_fails_at_start(clean_env, monkeypatch):
    monkeypatch.setenv("NEWSAGG_SCHEDULE__GROUPS", '[{"name": "x", "cron": "every monday"}]')
    with pytest.raises(ValueError):
        Scheduler(Settings())._select(None)
    monkeypatch.setenv("NEWSAGG_SCHEDULE__GROUPS", '[{"name": "x", "every": "1m"}]')
    with pytest.raises(ValueError, match="unknown schedule group"):
        Scheduler(Settings())._select(["nope"])


def test_workers_need_redis(clean_env, monkeypatch):
    monkeypatch.setenv("NEWSAGG_SCHEDULE__GROUPS", '[{"name": "x", "every": "1m", "workers": 3}]')
    with pytest.raises(ValueError, match="redis_url"):
        Scheduler(Settings())


def test_crawl_command_of_a_group(clean_env):
    scheduler = Scheduler(Settings())
    all_sources = ScheduleGroup(name="feeds", discover="feeds", every="15m")
    assert scheduler.crawl_argv(all_sources) == [
        sys.executable, "-m", "newsagg.app.cli", "crawl", "--group", "feeds", "--quiet", "--discover", "feeds"]
    some = ScheduleGroup(name="cn", sources=["a", "b"], cron="0 * * * *", registry=Path("/r.toml"))
    assert scheduler.crawl_argv(some)[4:] == [
        "--group", "cn", "--quiet", "--sources", "a,b", "--registry", "/r.toml"]
