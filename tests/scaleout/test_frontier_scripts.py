"""The Redis side of the scale-out, script by script: leases, their expiry and re-queueing, run membership, pace."""

from __future__ import annotations

import threading
import time

import pytest

from crawler.scaleout import CLAIM, ENQUEUE, JOIN, KEEP_ALIVE, LEAVE, POP_LEASE, PUBLISH, REAP, RENEW


@pytest.fixture
def scripts(redis_client):
    return {name: redis_client.register_script(src) for name, src in
            {"pop": POP_LEASE, "reap": REAP, "renew": RENEW, "join": JOIN, "leave": LEAVE, "claim": CLAIM,
             "publish": PUBLISH, "keep_alive": KEEP_ALIVE, "enqueue": ENQUEUE}.items()}


@pytest.fixture
def keys(prefix):
    base = f"{prefix}:crawl:news:g:run1"
    return {n: f"{base}:{n}" for n in ("requests", "leases", "lease_expiry", "workers", "dupefilter")}


def pop(scripts, keys, lease, ms):
    return scripts["pop"](keys=[keys["requests"], keys["leases"], keys["lease_expiry"]], args=[lease, ms])


def reap(scripts, keys):
    return scripts["reap"](keys=[keys["requests"], keys["leases"], keys["lease_expiry"], keys["workers"]])


def test_a_request_leaves_the_queue_only_as_a_lease(redis_client, scripts, keys):
    redis_client.zadd(keys["requests"], {b"low|pipe": 0, b"high": -5})  # score = -priority, as scrapy-redis
    assert pop(scripts, keys, "w1:1", 10_000) == b"high"
    assert redis_client.zcard(keys["requests"]) == 1
    assert redis_client.hget(keys["leases"], "w1:1") == b"-5|high"
    assert redis_client.zscore(keys["lease_expiry"], "w1:1") > time.time() * 1000
    assert pop(scripts, keys, "w1:2", 10_000) == b"low|pipe"  # '|' inside the request data is fine
    assert pop(scripts, keys, "w1:3", 10_000) is None


def test_a_request_is_marked_seen_and_queued_in_one_step(redis_client, scripts, keys):
    enqueue = scripts["enqueue"]
    ks = [keys["dupefilter"], keys["requests"]]
    assert enqueue(keys=ks, args=["fp1", -2, b"r1"]) == 1
    assert enqueue(keys=ks, args=["fp1", 0, b"r1-again"]) == 0  # seen: not queued twice
    assert enqueue(keys=ks, args=["", 0, b"retry-of-r1"]) == 1  # no fingerprint: not filtered
    assert redis_client.smembers(keys["dupefilter"]) == {b"fp1"}
    assert redis_client.zrange(keys["requests"], 0, -1, withscores=True) == [(b"r1", -2.0), (b"retry-of-r1", 0.0)]


def test_expired_leases_go_back_with_their_priority(redis_client, scripts, keys):
    redis_client.zadd(keys["requests"], {b"a|b": -3, b"c": 0})
    pop(scripts, keys, "dead:1", 100)
    pop(scripts, keys, "alive:1", 100)
    assert reap(scripts, keys) == 0  # not expired yet
    time.sleep(0.25)
    scripts["renew"](keys=[keys["lease_expiry"], keys["workers"]], args=[10_000, "alive", "alive:1"])
    assert reap(scripts, keys) == 1  # the dead worker's lease, not the renewed one
    assert redis_client.zrange(keys["requests"], 0, -1, withscores=True) == [(b"a|b", -3.0)]
    assert redis_client.hkeys(keys["leases"]) == [b"alive:1"]
    # a lease already re-queued is not brought back by a late renewal (its request is in the queue again)
    scripts["renew"](keys=[keys["lease_expiry"], keys["workers"]], args=[10_000, "dead", "dead:1"])
    assert redis_client.zscore(keys["lease_expiry"], "dead:1") is None


def test_the_last_worker_out_ends_the_run(redis_client, scripts, keys, prefix):
    group = f"{prefix}:crawl:news:g"
    pointer = f"{group}:run"
    join = lambda worker, candidate: scripts["join"](  # noqa: E731
        keys=[pointer], args=[candidate, group, worker, 10_000, "0", 60_000]).decode()
    leave = lambda worker, finished: scripts["leave"](  # noqa: E731
        keys=[pointer], args=[f"{group}:run1", "run1", worker, "1" if finished else "0"])
    assert join("w1", "run1") == "run1" and join("w2", "run2") == "run1"  # the second joins the current run
    redis_client.sadd(keys["dupefilter"], "fp")
    assert leave("w1", True) == 0  # w2 still there
    assert leave("w2", False) == 0  # stopped, not finished: the run stays for the next crawl to resume
    assert redis_client.get(pointer) == b"run1"
    assert join("w3", "run3") == "run1"
    redis_client.zadd(keys["workers"], {"crashed": 1})  # a registration that expired long ago
    assert leave("w3", True) == 1
    assert not redis_client.exists(pointer, keys["dupefilter"], keys["workers"])
    assert join("w4", "run4") == "run4"  # the next crawl starts a fresh run


def test_a_run_with_work_left_is_not_ended(redis_client, scripts, keys, prefix):
    group = f"{prefix}:crawl:news:g"
    scripts["join"](keys=[f"{group}:run"], args=["run1", group, "w1", 10_000, "0", 60_000])
    redis_client.zadd(keys["requests"], {b"r": 0})
    assert scripts["leave"](keys=[f"{group}:run"], args=[f"{group}:run1", "run1", "w1", "1"]) == 0


def test_a_dead_run_expires_and_is_not_joined(redis_client, scripts, keys, prefix):
    """The run pointer and the run's keys live while a worker heartbeats; after its workers died, a new crawl
    starts its own run instead of joining one whose dupefilter already holds the feeds."""
    group = f"{prefix}:crawl:news:g"
    pointer = f"{group}:run"
    assert scripts["join"](keys=[pointer], args=["run1", group, "w1", 10_000, "0", 400]) == b"run1"
    redis_client.sadd(keys["dupefilter"], "feed-fingerprint")
    run_keys = [pointer, *keys.values()]
    for _ in range(3):  # a live worker's beats keep everything, well past the ttl
        assert 0 < redis_client.pttl(pointer) <= 400
        scripts["keep_alive"](keys=run_keys, args=["run1", 400])
        assert 0 < redis_client.pttl(keys["dupefilter"]) <= 400
        time.sleep(0.2)
    assert redis_client.get(pointer) == b"run1"
    time.sleep(0.5)  # every worker of run1 died: no beats
    assert not redis_client.exists(pointer, keys["dupefilter"], keys["workers"])
    assert scripts["join"](keys=[pointer], args=["run2", group, "w2", 10_000, "0", 400]) == b"run2"
    scripts["keep_alive"](keys=[pointer], args=["run1", 60_000])  # a late beat of the old run: not its pointer now
    assert redis_client.pttl(pointer) <= 400


def claim(scripts, prefix, delay_ms, hold_ms=2000):
    return scripts["claim"](keys=[f"{prefix}:polite:site:next", f"{prefix}:polite:site:delay"],
                            args=[hold_ms, delay_ms])


def test_pace_holds_a_site_until_its_robots_txt_is_read(scripts, prefix):
    assert claim(scripts, prefix, -1) == [0, -1]  # nobody knows the delay: go, and hold the site
    wait, _ = claim(scripts, prefix, -1)
    assert 1500 < wait <= 2000
    scripts["publish"](keys=[f"{prefix}:polite:site:next", f"{prefix}:polite:site:delay"], args=[300])
    wait, _ = claim(scripts, prefix, -1)
    assert 0 < wait <= 300  # the hold ended; one delay after the robots.txt fetch
    time.sleep(0.31)
    assert claim(scripts, prefix, -1) == [0, 300]  # other workers learn the delay from Redis


def test_pace_spaces_claims_of_many_workers(scripts, prefix, redis_client):
    granted: list[int] = []

    def worker() -> None:
        deadline = time.monotonic() + 1.2
        while time.monotonic() < deadline:
            wait, _ = claim(scripts, prefix, 100)
            if wait == 0:  # the grant time, exactly: the next allowed time (set by this claim) minus the delay
                granted.append(int(redis_client.get(f"{prefix}:polite:site:next")) - 100)  # ms
            else:
                time.sleep(wait / 1000)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    granted.sort()
    gaps = [b - a for a, b in zip(granted, granted[1:])]
    assert 9 <= len(granted) <= 14 and min(gaps) >= 100, gaps  # ~1 per 100 ms, however many workers ask
