"""The shared frontier: scrapy-redis' scheduler whose requests stay leased in Redis until Scrapy is done with them.

A request leaves the queue only by becoming a lease (one Lua step); leases are renewed while Scrapy works on the
requests, dropped once the response went through the spider and the pipelines, and re-queued by any worker when
their worker stops renewing them (it died). Workers of a group join the group's current run and stay while it has
queued or leased requests; the last one out deletes the run's keys.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import socket
from datetime import datetime, timezone

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from crawler.request_json import RefusedPayload
from crawler.runtime import SKIP_PREFIX, newsagg_settings
from crawler.scaleout.scripts import ENQUEUE, JOIN, KEEP_ALIVE, LEAVE, POP_LEASE, REAP, RENEW, ms

log = logging.getLogger(__name__)
LEASE_META = "newsagg_lease"


class LeasedScheduler(Scheduler):
    """scrapy-redis' Scheduler whose requests stay leased in Redis until Scrapy is done with them."""

    @classmethod
    def from_crawler(cls, crawler):
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler.queue_cls = "scrapy_redis.queue.PriorityQueue"  # the Lua scripts work on its sorted set
        cfg = newsagg_settings(crawler)
        scheduler.lease_ms = ms(cfg.scaleout.lease_seconds)
        scheduler.run_ttl_ms = max(ms(cfg.scaleout.run_ttl), 2 * scheduler.lease_ms)
        scheduler.prefix = cfg.schedule.redis_prefix
        scheduler.forced_run = cfg.scaleout.run
        scheduler.worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"
        scheduler.held = set()  # lease ids of requests this worker took from the queue
        scheduler._ids = itertools.count(1)
        for name, script in (("_enqueue", ENQUEUE), ("_pop", POP_LEASE), ("_renew", RENEW), ("_reap", REAP), ("_join", JOIN),
                             ("_leave", LEAVE), ("_keep_alive", KEEP_ALIVE)):
            setattr(scheduler, name, scheduler.server.register_script(script))
        crawler.signals.connect(scheduler._on_idle, signal=signals.spider_idle)
        return scheduler

    # ---- run membership --------------------------------------------------------------------------------
    def open(self, spider):
        group = self.crawler.settings.get("NEWSAGG_RUN_GROUP") or "default"
        self.group_base = f"{self.prefix}:crawl:{spider.name}:{group}"
        candidate = self.forced_run or datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S-") + secrets.token_hex(2)
        self.run_id = _text(self._join(keys=[self.run_pointer], args=[
            candidate, self.group_base, self.worker, self.lease_ms, "1" if self.forced_run else "0",
            self.run_ttl_ms]))
        base = f"{self.group_base}:{self.run_id}"
        self.keys = {name: f"{base}:{name}" for name in ("requests", "leases", "lease_expiry", "workers",
                                                         "dupefilter")}
        self.queue_key = self.keys["requests"]
        self.df = RFPDupeFilter(self.server, key=self.keys["dupefilter"],
                                debug=self.crawler.settings.getbool("DUPEFILTER_DEBUG"))
        super().open(spider)
        spider.logger.info("scale-out: worker %s in run %s (%d queued, %d leased)", self.worker, self.run_id,
                           len(self.queue), self.server.hlen(self.keys["leases"]))
        self._requeue_expired()  # what workers of a crashed earlier attempt were holding
        self._ticker = task.LoopingCall(self._tick)
        self._ticker.start(min(1.0, self.lease_ms / 3000), now=False)

    @property
    def run_pointer(self) -> str:
        return f"{self.group_base}:run"

    def close(self, reason):
        if getattr(self, "_ticker", None) is not None and self._ticker.running:
            self._ticker.stop()
        self._release_done()
        if self.held:  # cancelled mid-flight by a shutdown: straight back to the queue, not after the lease
            self.server.zadd(self.keys["lease_expiry"], {lease: 0 for lease in self.held})
            self._requeue_expired()
        ended = self._leave(keys=[self.run_pointer], args=[
            f"{self.group_base}:{self.run_id}", self.run_id, self.worker, "1" if reason == "finished" else "0"])
        if ended:
            self.spider.logger.info("scale-out: run %s complete, its keys removed", self.run_id)
        return super().close(reason)

    # ---- queue -----------------------------------------------------------------------------------------
    def enqueue_request(self, request):
        request.meta.pop(LEASE_META, None)  # a redirect/retry copy of a leased request gets its own lease
        # dont_filter requests (the spider's articles) are still deduplicated across workers the first time they
        # are scheduled, as the spider's own per-process set does; redirects and retries of them pass.
        first = not (request.meta.get("redirect_times") or request.meta.get("retry_times"))
        fingerprint = self.df.request_fingerprint(request) if (not request.dont_filter or first) else ""
        # seen-mark and queue entry in one step (scrapy-redis does them one after the other)
        if not self._enqueue(keys=[self.keys["dupefilter"], self.keys["requests"]],
                             args=[fingerprint, -request.priority, self.queue._encode_request(request)]):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self):
        lease = f"{self.worker}:{next(self._ids)}"
        data = self._pop(keys=[self.keys["requests"], self.keys["leases"], self.keys["lease_expiry"]],
                         args=[lease, self.lease_ms])
        if not data:
            return None
        try:
            request = self.queue._decode_request(data)  # JSON (crawler/request_json.py), never pickle
            self._check_source(request)
        except Exception as exc:  # noqa: BLE001 — an undecodable entry would otherwise come back forever
            log.error("scale-out: refused a frontier entry (%s): %r", exc, bytes(data[:80]))
            self.stats.inc_value(SKIP_PREFIX + "refused_queue_entry")
            self._drop_leases([lease])
            return None
        request.meta[LEASE_META] = lease
        self.held.add(lease)
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def _check_source(self, request) -> None:
        source = request.cb_kwargs.get("source_name")
        if source is not None and source not in getattr(self.spider, "source_named", {source: None}):
            raise RefusedPayload(f"unknown source {str(source)[:60]!r}")

    # ---- leases ----------------------------------------------------------------------------------------
    def _in_progress(self) -> set[str]:
        """Leases of requests Scrapy still works on: downloading (incl. waiting for politeness) or scraping."""
        engine = self.crawler.engine
        requests = set(engine.downloader.active)
        slot = engine.scraper.slot
        if slot is not None:
            requests |= slot.active | {request for _, request, _ in slot.queue}
        engine_slot = getattr(engine, "_slot", None)  # from download start to the end of scraping
        requests |= set(getattr(engine_slot, "inprogress", ()))
        return {r.meta[LEASE_META] for r in requests if LEASE_META in r.meta}

    def _release_done(self) -> None:
        live = self._in_progress()
        self._drop_leases(self.held - live)
        self.held &= live

    def _drop_leases(self, leases) -> None:
        if leases:
            pipe = self.server.pipeline()
            pipe.hdel(self.keys["leases"], *leases)
            pipe.zrem(self.keys["lease_expiry"], *leases)
            pipe.execute()

    def _requeue_expired(self) -> int:
        n = self._reap(keys=[self.keys["requests"], self.keys["leases"], self.keys["lease_expiry"],
                             self.keys["workers"]])
        if n:
            log.warning("scale-out: re-queued %d request(s) whose worker stopped renewing its lease", n)
            self.stats.inc_value("newsagg/scaleout/requeued", n)
        return n

    def _tick(self) -> None:
        try:
            self._release_done()
            self._renew(keys=[self.keys["lease_expiry"], self.keys["workers"]],
                        args=[self.lease_ms, self.worker, *self.held])
            self._keep_alive(keys=[self.run_pointer, *self.keys.values()], args=[self.run_id, self.run_ttl_ms])
            self._requeue_expired()
            self._wake()  # pull new work, or notice that the frontier has drained, without the 5 s engine beat
        except Exception:  # noqa: BLE001 — a Redis hiccup must not stop the heartbeat for good
            log.exception("scale-out heartbeat failed; retrying")

    def _wake(self) -> None:
        """Let the engine look at the shared queue (and at idleness) now rather than at its next 5 s heartbeat."""
        nextcall = getattr(getattr(self.crawler.engine, "_slot", None), "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()

    def _on_idle(self, spider) -> None:
        """Idle here is not done while other workers still hold leases: they may yield more, or die."""
        self._release_done()
        self._requeue_expired()
        if len(self.queue) or self.server.hlen(self.keys["leases"]):
            raise DontCloseSpider


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
