"""Transient failures are tried again by the next crawl, with backoff; only 404/410 after N tries are final.

Two real crawls of a local site that fails in the first one (403, 503 with a long Retry-After, an empty 200, a
dropped connection, a 404) and recovers in the second.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from tests.crawler.flaky_site import FlakySite
from OpenSSL import SSL
from scrapy.exceptions import IgnoreRequest
from sqlalchemy import select
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived

from crawler.failures import failure_reason
from crawler.middlewares import RetryLater
from crawler.retries import RetryPolicy
from newsagg.models import CrawlRetry, SeenUrl
from newsagg.store import Store

ENV = {"NEWSAGG_CRAWL__RETRY_BASE_DELAY": "0.5", "NEWSAGG_CRAWL__RETRY_MAX_ATTEMPTS": "2",
       "NEWSAGG_CRAWL__PERMANENT_AFTER_TRIES": "2", "NEWSAGG_CRAWL__RETRY_TIMES": "1"}


@pytest.fixture
def site():
    s = FlakySite()
    yield s
    s.close()


def state(db: str, site: FlakySite):
    store = Store(db)
    with store.session() as s:
        retries = {r.url[len(site.base):]: r for r in s.scalars(select(CrawlRetry))}
        seen = {r.url[len(site.base):]: r.status for r in s.scalars(select(SeenUrl))}
    titles = {a.title for a in store.iter_articles()}
    skips = store.runs()[0].skips
    store.close()
    return retries, seen, titles, skips


@pytest.mark.slow
def test_a_failing_site_is_crawled_again_once_it_recovers(site, tmp_path, crawl):
    db = f"sqlite:///{tmp_path / 'r.db'}"
    registry = site.registry(tmp_path)
    first = crawl(registry, db, env=ENV)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    retries, seen, titles, skips = state(db, site)
    assert titles == {"Flaky EV battery story good"}
    booked = {path: (r.reason, r.attempts) for path, r in retries.items()}
    assert booked == {"/forbidden-then-ok": ("http_403", 1), "/busy-for-an-hour": ("retry_after", 1),
                      "/empty-then-ok": ("empty_body", 1), "/dropped-then-ok": ("connection", 1),
                      "/always-forbidden": ("http_403", 1), "/gone": ("http_404", 1)}
    assert set(seen) == {"/good"}  # nothing that failed is in the seen-set yet
    later = datetime.now(timezone.utc) + timedelta(seconds=3000)
    assert retries["/busy-for-an-hour"].next_try_at > later  # the server's Retry-After wins over the backoff
    assert skips.get("http_403") == 2 and skips.get("retry_after") == 1

    time.sleep(1.0)  # past the 0.5 s backoff of the first failure
    site.phase = 2
    second = crawl(registry, db, env=ENV)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    retries, seen, titles, skips = state(db, site)
    assert {"Flaky EV battery story forbidden-then-ok", "Flaky EV battery story empty-then-ok",
            "Flaky EV battery story dropped-then-ok"} <= titles
    assert site.hits_of("/busy-for-an-hour", 2) == 0  # not due for an hour: not asked again
    assert seen["/gone"] == "skipped/http_404"  # permanent after 2 tries
    assert seen["/always-forbidden"] == "skipped/gave_up/http_403"  # transient, given up after the maximum
    assert skips.get("gave_up/http_403") == 1 and skips.get("http_404") == 1
    assert set(retries) == {"/busy-for-an-hour"}  # recovered and final ones are no longer booked


def test_backoff_doubles_up_to_the_cap_and_retry_after_wins():
    policy = RetryPolicy(base_delay=60, max_delay=300, max_attempts=5, permanent_after=2)
    assert [policy.wait(n) for n in (1, 2, 3, 4)] == [60, 120, 240, 300]
    assert policy.wait(1, retry_after=3600) == 3600


@pytest.mark.parametrize("exc,reason", [
    (ResponseNeverReceived([Failure(SSL.Error([("SSL routines", "", "wrong version number")]))]), "tls"),
    (ResponseNeverReceived([Failure(ConnectionDone())]), "connection"),
    (ConnectionLost(), "connection"),
    (RetryLater(7200), "retry_after"),
    (IgnoreRequest("refused: 127.0.0.1 is a private address (loopback)"), "blocked_address"),
])
def test_failure_reasons(exc, reason):
    assert failure_reason(Failure(exc)) == reason


def test_scrapys_wrapped_errors_keep_their_reason():
    from scrapy.exceptions import CannotResolveHostError, DownloadTimeoutError
    from twisted.internet.error import DNSLookupError

    wrapped = CannotResolveHostError("no results")
    wrapped.__cause__ = DNSLookupError("x")
    assert failure_reason(Failure(wrapped)) == "dns"
    assert failure_reason(Failure(DownloadTimeoutError("took too long"))) == "timeout"


def test_the_retry_book_on_each_backend(store):
    from crawler.retries import RetryBook

    book = RetryBook(store)
    policy = RetryPolicy(base_delay=0, max_delay=0, max_attempts=5, permanent_after=2)
    assert book.failed("https://a.test/1", "a", "http_403", policy) == 1
    assert book.failed("https://a.test/1", "a", "timeout", policy) == 2  # one booking per URL, attempts add up
    assert book.failed("https://a.test/2", "a", "tls", RetryPolicy(3600, 3600, 5, 2)) == 1
    assert book.failed("https://b.test/1", "b", "connection", policy) == 1
    pending = book.pending(["https://a.test/1", "https://a.test/2", "https://never.test/"])
    assert set(pending) == {"https://a.test/1", "https://a.test/2"} and pending["https://a.test/1"].attempts == 2
    assert [r.url for r in book.due(["a"])] == ["https://a.test/1"]  # a.test/2 waits an hour; b is another source
    store.mark_seen("https://a.test/1", "stored")
    assert [r.url for r in book.due(["a", "b"])] == ["https://b.test/1"]  # a.test/1 seen meanwhile: not booked
    book.clear("https://b.test/1")
    assert book.due(["b"]) == []
