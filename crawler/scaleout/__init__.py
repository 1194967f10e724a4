"""Scale-out: N crawl workers (one or many machines) share one Redis frontier and one politeness budget per site.

Switched on by `redis_url` (see the block at the end of crawler/settings.py):

- LeasedScheduler is scrapy-redis' Scheduler (shared priority queue and RFPDupeFilter) with keys per group and run,
  and with leases: a request leaves the queue only by becoming a lease, in one Lua step. The worker renews its
  leases while Scrapy works on the requests and drops each once its response went through the spider and the
  item pipelines. A dead worker's leases expire and any other worker puts them back in the queue, so requests in
  flight at a crash are retried, never lost; the store's seen-set and unique URL make a retry harmless.
- Workers of a group join the group's current run and stay while it has queued or leased requests; the last one
  out deletes the run's keys. If every worker died, the next `newsagg crawl` of the group resumes that run within
  scaleout.run_ttl; after that the run's pointer and keys have expired (live workers refresh them every beat), so
  a new crawl starts a fresh run instead of joining a dead one whose dupefilter already holds the feeds.
- Queued requests are JSON (crawler/request_json.py), never pickle: an entry that is not one of ours is refused
  and counted (`refused_queue_entry`). The dupefilter keeps only fingerprints (hex strings).
- SharedPace keeps a per-site "next allowed time" in Redis (server clock, Lua), so all workers together keep to
  the site's Crawl-delay (or DOWNLOAD_DELAY): SharedPolitenessMiddleware learns and shares each site's delay from
  robots.txt, PacedDownloadHandler waits for the site's turn without blocking (deferLater) just before sending.

Modules: frontier.py (LeasedScheduler), pace.py (SharedPace and the middleware and download handler that use it),
scripts.py (the Lua scripts, lua/*.lua). Knobs: the [scaleout] settings (newsagg/config.py).

Keys (P = schedule.redis_prefix): P:crawl:<spider>:<group>:run → current run id; P:crawl:<spider>:<group>:<run>:
{requests, dupefilter, leases, lease_expiry, workers}; P:polite:<host:port>:{next, delay}. Scripts build key
names from a prefix, so this needs a single Redis (or one Redis Cluster hash slot), not a sharded cluster.
"""

from crawler.scaleout.frontier import LeasedScheduler
from crawler.scaleout.pace import PacedDownloadHandler, SharedPace, SharedPolitenessMiddleware
from crawler.scaleout.scripts import CLAIM, ENQUEUE, JOIN, KEEP_ALIVE, LEAVE, POP_LEASE, PUBLISH, REAP, RENEW

__all__ = ["CLAIM", "ENQUEUE", "JOIN", "KEEP_ALIVE", "LEAVE", "POP_LEASE", "PUBLISH", "REAP", "RENEW", "LeasedScheduler",
           "PacedDownloadHandler", "SharedPace", "SharedPolitenessMiddleware"]
