"""Scale-out: N crawl workers (one or many machines) share one Redis frontier and one politeness budget per site.

Switched on by `redis_url` (see the block at the end of crawler/settings.py):

- LeasedScheduler is scrapy-redis' Scheduler (shared priority queue and RFPDupeFilter) with keys per group and run,
  and with leases: a request leaves the queue only by becoming a lease, in one Lua step. The worker renews its
  leases while Scrapy works on the requests and drops each once its response went through the spider and the
  item pipelines. A dead worker's leases expire and any other worker puts them back in the queue, so requests in
  flight at a crash are retried, never lost; the store's seen-set and unique URL make a retry harmless.
- Workers of a group join the group's current run and stay while it has queued or leased requests; the last one
  out deletes the run's keys. If every worker died, the next `newsagg crawl` of the group resumes that run within
  NEWSAGG_RUN_TTL; after that the run's pointer and keys have expired (live workers refresh them every beat), so
  a new crawl starts a fresh run instead of joining a dead one whose dupefilter already holds the feeds.
- Queued requests are JSON (crawler/request_json.py), never pickle: an entry that is not one of ours is refused
  and counted (`refused_queue_entry`). The dupefilter keeps only fingerprints (hex strings).
- SharedPace keeps a per-site "next allowed time" in Redis (server clock, Lua), so all workers together keep to
  the site's Crawl-delay (or DOWNLOAD_DELAY): SharedPolitenessMiddleware learns and shares each site's delay from
  robots.txt, PacedDownloadHandler waits for the site's turn without blocking (deferLater) just before sending.

Keys (P = NEWSAGG_REDIS_PREFIX): P:crawl:<spider>:<group>:run → current run id; P:crawl:<spider>:<group>:<run>:
{requests, dupefilter, leases, lease_expiry, workers}; P:polite:<host:port>:{next, delay}. Scripts build key
names from a prefix, so this needs a single Redis (or one Redis Cluster hash slot), not a sharded cluster.
"""

from __future__ import annotations

import itertools
import logging
import os
import secrets
import socket
import time
from datetime import datetime, timezone

from scrapy import signals
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler
from twisted.internet import reactor, task

from crawler.middlewares import PolitenessMiddleware
from crawler.request_json import RefusedPayload
from crawler.runtime import SKIP_PREFIX

log = logging.getLogger(__name__)
LEASE_META = "newsagg_lease"
STALE_TURN = 0.1  # share of a site's delay the reactor may take between our turn and the send
MAX_STALE_TURNS = 3
_NOW_MS = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

# KEYS: queue, leases, lease_expiry; ARGV: lease id, lease ms → the popped request (now leased) or nil
POP_LEASE = _NOW_MS + """
local item = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #item == 0 then return false end
redis.call('ZREM', KEYS[1], item[1])
redis.call('HSET', KEYS[2], ARGV[1], item[2] .. '|' .. item[1])
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[1])
return item[1]
"""
# KEYS: lease_expiry, workers; ARGV: lease ms, worker id, lease ids… (XX: a lease already re-queued stays gone)
RENEW = _NOW_MS + """
local expiry = now + tonumber(ARGV[1])
redis.call('ZADD', KEYS[2], expiry, ARGV[2])
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i]) end
return 1
"""
# KEYS: queue, leases, lease_expiry, workers → how many expired leases went back to the queue
REAP = _NOW_MS + """
local n = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)) do
  local v = redis.call('HGET', KEYS[2], id)
  if v then
    local sep = string.find(v, '|', 1, true)
    redis.call('ZADD', KEYS[1], tonumber(string.sub(v, 1, sep - 1)), string.sub(v, sep + 1))
    redis.call('HDEL', KEYS[2], id)
    n = n + 1
  end
  redis.call('ZREM', KEYS[3], id)
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
return n
"""
# KEYS: run pointer; ARGV: candidate run id (or the forced one), group key base, worker id, lease ms, forced?,
# run ttl ms — the pointer expires unless a live worker refreshes it (KEEP_ALIVE): a dead run is not joined later
JOIN = _NOW_MS + """
local run = ARGV[1]
if ARGV[5] ~= '1' then
  redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', tonumber(ARGV[6]))
  run = redis.call('GET', KEYS[1])
end
redis.call('ZADD', ARGV[2] .. ':' .. run .. ':workers', now + tonumber(ARGV[4]), ARGV[3])
return run
"""
# KEYS: run pointer, the run's keys…; ARGV: run id, ttl ms — a live worker's heartbeat keeps the run's keys (and
# the pointer, while it still names this run) from expiring; once every worker is gone they all expire
KEEP_ALIVE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) end
for i = 2, #KEYS do redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2])) end
return 1
"""
# KEYS: run pointer; ARGV: run key base, run id, worker id, finished? → 1 if this worker ended the run
LEAVE = _NOW_MS + """
local b = ARGV[1]
redis.call('ZREM', b .. ':workers', ARGV[3])
redis.call('ZREMRANGEBYSCORE', b .. ':workers', '-inf', now)
if ARGV[4] == '1' and redis.call('ZCARD', b .. ':workers') == 0 and redis.call('ZCARD', b .. ':requests') == 0
   and redis.call('HLEN', b .. ':leases') == 0 then
  redis.call('DEL', b .. ':requests', b .. ':dupefilter', b .. ':leases', b .. ':lease_expiry', b .. ':workers')
  if redis.call('GET', KEYS[1]) == ARGV[2] then redis.call('DEL', KEYS[1]) end
  return 1
end
return 0
"""
# KEYS: next, delay; ARGV: hold ms, delay ms or -1 (unknown here) → {ms to wait, 0 = go; the site's delay ms or
# -1 while nobody has read its robots.txt: then this caller holds the site until it shares the delay}
CLAIM = _NOW_MS + """
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if now < nxt then return {nxt - now, -1} end
local d = tonumber(ARGV[2])
if d < 0 then d = tonumber(redis.call('GET', KEYS[2]) or '-1') end
local pace = d
if d < 0 then pace = tonumber(ARGV[1]) end
if pace > 0 then redis.call('SET', KEYS[1], now + pace, 'PX', pace + 60000) end
return {0, d}
"""
# KEYS: next, delay; ARGV: delay ms — robots.txt just read: share the delay, and end the hold of CLAIM
PUBLISH = _NOW_MS + """
local d = tonumber(ARGV[1])
redis.call('SET', KEYS[2], d, 'EX', 3600)
redis.call('SET', KEYS[1], now + d, 'PX', d + 60000)
return 1
"""


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


class LeasedScheduler(Scheduler):
    """scrapy-redis' Scheduler whose requests stay leased in Redis until Scrapy is done with them."""

    @classmethod
    def from_crawler(cls, crawler):
        scheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        scheduler.queue_cls = "scrapy_redis.queue.PriorityQueue"  # the Lua scripts work on its sorted set
        settings = crawler.settings
        scheduler.lease_ms = _ms(settings.getfloat("NEWSAGG_LEASE_SECONDS", 30.0))
        scheduler.run_ttl_ms = max(_ms(settings.getfloat("NEWSAGG_RUN_TTL", 300.0)), 2 * scheduler.lease_ms)
        scheduler.prefix = settings.get("NEWSAGG_REDIS_PREFIX", "newsagg")
        scheduler.forced_run = settings.get("NEWSAGG_RUN_ID", "")
        scheduler.worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"
        scheduler.held = set()  # lease ids of requests this worker took from the queue
        scheduler._ids = itertools.count(1)
        for name, script in (("_pop", POP_LEASE), ("_renew", RENEW), ("_reap", REAP), ("_join", JOIN),
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
        if (not request.dont_filter or first) and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis", spider=self.spider)
        self.queue.push(request)
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
            self.stats.inc_value("scheduler/dequeued/redis", spider=self.spider)
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


class SharedPace:
    """One pace per site for all workers: Redis keeps each site's next allowed send time and its delay.

    A site's delay is max(DOWNLOAD_DELAY, its robots.txt Crawl-delay). Until some worker has read the site's
    robots.txt, the first claimant holds the site (at most NEWSAGG_ROBOTS_HOLD) so the others do not rush it.
    """

    def __init__(self, crawler):
        settings = crawler.settings
        self.stats = crawler.stats
        self.redis = get_redis_from_settings(settings)
        self.prefix = settings.get("NEWSAGG_REDIS_PREFIX", "newsagg") + ":polite:"
        self.default_delay = settings.getfloat("NEWSAGG_SHARED_DELAY", 0.0)
        self.hold_ms = _ms(settings.getfloat("NEWSAGG_ROBOTS_HOLD", 5.0))
        self.robots_first = settings.getbool("ROBOTSTXT_OBEY")
        self.known: dict[str, float] = {}  # site → delay, once this worker has read (or failed to read) robots.txt
        self._claim = self.redis.register_script(CLAIM)
        self._publish = self.redis.register_script(PUBLISH)

    @classmethod
    def of(cls, crawler) -> "SharedPace":
        """The crawler's one pace (shared by the middleware that learns delays and the handler that waits)."""
        pace = getattr(crawler, "_newsagg_pace", None)
        if pace is None:
            pace = crawler._newsagg_pace = cls(crawler)
        return pace

    def _keys(self, netloc: str) -> list[str]:
        return [f"{self.prefix}{netloc}:next", f"{self.prefix}{netloc}:delay"]

    def learned(self, netloc: str, delay: float) -> None:
        """robots.txt read (or unreadable): share the site's delay and end the hold."""
        self.known[netloc] = max(self.default_delay, delay)
        self._publish(keys=self._keys(netloc), args=[_ms(self.known[netloc])])

    async def wait(self, request) -> None:
        """Return once this request may be sent; waits without blocking the reactor."""
        netloc = urlparse_cached(request).netloc
        stale = 0
        while True:
            known = self.known.get(netloc, None if self.robots_first else self.default_delay)
            wait_ms, delay_ms = self._claim(keys=self._keys(netloc),
                                            args=[self.hold_ms, -1 if known is None else _ms(known)])
            if wait_ms > 0:
                self.stats.inc_value("newsagg/scaleout/pace_waits")
                await _sleep(wait_ms / 1000)
                continue
            if delay_ms <= 0 or stale >= MAX_STALE_TURNS:
                return
            # Our turn starts now, but the send happens only when the reactor gets to it; if other work held the
            # reactor for long (extraction, start-up), another worker's next turn could come right after our
            # late send. Let queued work run first; a turn that went stale meanwhile is given up for a fresh one.
            granted = time.monotonic()
            await _sleep(0)
            if time.monotonic() - granted <= STALE_TURN * delay_ms / 1000:
                return
            stale += 1
            self.stats.inc_value("newsagg/scaleout/stale_turns")


async def _sleep(seconds: float) -> None:
    await maybe_deferred_to_future(task.deferLater(reactor, seconds, lambda: None))


class SharedPolitenessMiddleware(PolitenessMiddleware):
    """PolitenessMiddleware for many workers: one download slot per site, and each site's robots.txt delay
    shared through Redis. The wait itself is PacedDownloadHandler's, right before the send."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.pace = SharedPace.of(crawler)

    def _robots_parsed(self, robotparser, request) -> None:
        super()._robots_parsed(robotparser, request)
        netloc = urlparse_cached(request).netloc
        self.pace.learned(netloc, self.delays.get(netloc, 0.0))

    def process_request(self, request):
        request.meta.setdefault("download_slot", urlparse_cached(request).netloc)  # per site, ports included
        request.meta["autothrottle_dont_adjust_delay"] = True  # the shared pace is the only throttle
        return None

    def process_exception(self, request, exception):
        netloc = urlparse_cached(request).netloc
        if request.meta.get("dont_obey_robotstxt") and netloc not in self.pace.known:
            self.pace.learned(netloc, 0.0)  # robots.txt unreachable: Scrapy crawls without rules, at the default pace
        return None


class PacedDownloadHandler(BaseDownloadHandler):
    """Scrapy's HTTP(S) handler behind the shared pace.

    The wait is the last step before a request leaves, not a downloader middleware's: between the middlewares and
    the network sits Scrapy's per-slot queue, and a turn claimed before that queue can be spent much later (three
    workers then hit a 0.2 s Crawl-delay site 0.03 s apart). Waiting here also keeps at most
    CONCURRENT_REQUESTS_PER_DOMAIN requests per site and worker waiting, as Scrapy's slot counts them as transfers.
    """

    lazy = False

    def __init__(self, crawler):
        super().__init__(crawler)
        self.inner = build_from_crawler(load_object(crawler.settings.get("NEWSAGG_HTTP_HANDLER")
                                                     or "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"),
                                        crawler)
        self.pace = SharedPace.of(crawler)

    async def download_request(self, request):
        await self.pace.wait(request)
        return await self.inner.download_request(request)

    async def close(self) -> None:
        await self.inner.close()
