"""The Redis frontier holds JSON, never pickle: a request survives the round trip, a pickle payload is refused.

Whoever can write to Redis can queue entries; none of them may run code on a worker.
"""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest
from scrapy import Request, Spider
from scrapy.utils.request import request_from_dict

from crawler import request_json
from newsagg.demo import local_crawl_env
from newsagg.demo.server import DemoSites
from newsagg.store import Store


class _Spider(Spider):
    name = "news"

    def parse_article(self, response, source_name):
        pass

    def on_error(self, failure):
        pass


class _CreatesFile:
    """Unpickling this opens (creates) a file: the proof that a payload was executed."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_request_round_trips_through_json():
    spider = _Spider()
    request = Request("https://ex.com/a?b=1", callback=spider.parse_article, errback=spider.on_error,
                      method="POST", body=b"\x00\xffbinary", headers={"If-None-Match": 'W/"x"'},
                      cb_kwargs={"source_name": "ex"}, meta={"newsagg_document": True, "redirect_urls": ["u"]},
                      priority=3, dont_filter=True)
    data = request_json.dumps(request.to_dict(spider=spider))
    assert isinstance(data, str) and b"binary" not in data.encode()  # bytes travel as base64
    back = request_from_dict(request_json.loads(data.encode()), spider=spider)
    assert (back.url, back.method, back.body, back.priority, back.dont_filter) == (
        request.url, "POST", b"\x00\xffbinary", 3, True)
    assert back.headers.get("If-None-Match") == b'W/"x"'
    assert back.callback == spider.parse_article and back.errback == spider.on_error
    assert back.cb_kwargs == {"source_name": "ex"} and back.meta["redirect_urls"] == ["u"]


@pytest.mark.parametrize("payload", [
    pickle.dumps({"url": "https://ex.com/"}),
    b'{"url": "https://ex.com/", "_class": "os.system"}',  # request_from_dict would import and call it
    b'{"url": "https://ex.com/", "callback": "close"}',
    b'{"url": "https://ex.com/", "callback": "__init__"}',
    b'["https://ex.com/"]',
    b'{"url": "https://ex.com/", "body": {"__b64__": "not base64!"}}',
])
def test_what_we_never_queue_is_refused(payload):
    with pytest.raises(request_json.RefusedPayload):
        request_json.loads(payload)


@pytest.mark.slow
def test_a_pickle_payload_in_the_frontier_is_refused_not_run(redis_url, redis_client, prefix, tmp_path):
    """A real worker meets a pickle payload at the head of its queue: no file appears, the entry is counted,
    and the crawl goes on to store articles (through JSON entries it queued itself)."""
    marker = tmp_path / "pwned"
    run = "run-pickle"
    queue = f"{prefix}:crawl:news:default:{run}:requests"
    redis_client.zadd(queue, {pickle.dumps(_CreatesFile(marker)): -100})  # popped first (lowest score)
    db = f"sqlite:///{tmp_path / 'w.db'}"
    with DemoSites() as sites:
        registry, _ = sites.write_files(tmp_path)
        env = local_crawl_env(NEWSAGG_DATABASE_URL=db, NEWSAGG_REDIS_URL=redis_url,
                              NEWSAGG_SCHEDULE__REDIS_PREFIX=prefix, NEWSAGG_SCALEOUT__RUN=run,
                              NEWSAGG_CRAWL__RETRY_TIMES="1")
        proc = subprocess.run([sys.executable, "-m", "newsagg.app.cli", "crawl", "--registry", str(registry),
                               "--sources", "circuitchassis", "--discover", "feeds", "--quiet"],
                              env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert not marker.exists(), "the pickle payload was executed"
    store = Store(db)
    try:
        run_row = store.runs()[0]
        assert run_row.skips.get("refused_queue_entry") == 1, run_row.skips
        assert store.count_articles() > 0
    finally:
        store.close()
    assert "refused a frontier entry" in proc.stdout + proc.stderr
