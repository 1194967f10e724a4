"""Scrapy settings for newsagg, derived from the one newsagg configuration (newsagg.toml + NEWSAGG_* env).

`scrapy crawl news` and `newsagg crawl` both read this module; every knob lives in newsagg/config.py. The whole
settings object goes to the components as one setting, NEWSAGG_SETTINGS (read it with
`crawler.runtime.newsagg_settings`); the Scrapy settings below are derived from it, never defaulted twice.
"""

from newsagg.config import get_settings

_cfg = get_settings()
_crawl = _cfg.crawl

BOT_NAME = "newsagg"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Identify ourselves, with a way to reach us.
USER_AGENT = _crawl.user_agent.format(contact_url=_crawl.contact_url)

# Politeness: robots.txt (plus its Crawl-delay, see PolitenessMiddleware), few requests per site, adaptive delay.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = _crawl.concurrent_per_domain
DOWNLOAD_DELAY = _crawl.download_delay
AUTOTHROTTLE_ENABLED = _crawl.autothrottle
AUTOTHROTTLE_START_DELAY = max(_crawl.download_delay, 0.1)
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# News pages are small: refuse what is not (also caps decompressed size: gzip bombs).
DOWNLOAD_MAXSIZE = _crawl.download_maxsize
DOWNLOAD_WARNSIZE = _crawl.download_warnsize
DOWNLOAD_TIMEOUT = _crawl.download_timeout
REDIRECT_MAX_TIMES = 5
RETRY_TIMES = _crawl.retry_times
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
COOKIES_ENABLED = False
# SSRF guard at connect time: the resolver hands the connection only public addresses (crawler/resolver.py).
TWISTED_DNS_RESOLVER = "crawler.resolver.AddressGuardResolver"
# Only http(s): a URL from a feed (or the Redis frontier) must not read local files or reach other schemes.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "s3": None, "ftp": None}
TELNETCONSOLE_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.PrivateAddressMiddleware": 50,
    "crawler.middlewares.PolitenessMiddleware": 110,  # after RobotsTxtMiddleware (100): robots are parsed first
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
}
ITEM_PIPELINES = {
    "crawler.pipelines.ValidatePipeline": 100,
    "crawler.pipelines.CanonicalUrlPipeline": 200,
    "crawler.pipelines.ExactDuplicatePipeline": 300,
    "crawler.pipelines.NearDuplicatePipeline": 400,
    "crawler.pipelines.RelevancePipeline": 500,
    "crawler.pipelines.StorePipeline": 900,
}
EXTENSIONS = {
    "crawler.extensions.CrawlRunRecorder": 500,
    "crawler.health.SourceHealthRecorder": 510,  # per-source extraction health of the run (template changes)
}

# newsagg's own knobs, read by the components above: the one configuration object, and the schedule group a
# crawl runs for (a per-run argument set by crawler/run.py, recorded with the run).
NEWSAGG_SETTINGS = _cfg
NEWSAGG_RUN_GROUP = ""

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

# ---- Scale-out (crawler/scaleout/, settings [scaleout]): only when a Redis URL is set (NEWSAGG_REDIS_URL) ------
# Any number of `newsagg crawl` workers, on one or many machines, then share one frontier (scrapy-redis scheduler
# and duplicate filter, keys per group and run; requests in flight are leased, so a dead worker's are retried) and
# one pace per site (a Redis "next allowed time" per site instead of each worker's own download delay).
if _cfg.redis_url:
    REDIS_URL = _cfg.redis_url
    SCHEDULER = "crawler.scaleout.frontier.LeasedScheduler"  # scrapy_redis.scheduler.Scheduler + in-flight leases
    DUPEFILTER_CLASS = "scrapy_redis.dupefilter.RFPDupeFilter"
    SCHEDULER_QUEUE_CLASS = "scrapy_redis.queue.PriorityQueue"
    SCHEDULER_SERIALIZER = "crawler.request_json"  # JSON, not scrapy-redis' default pickle (code from Redis)
    SCHEDULER_PERSIST = True  # a worker that leaves must not flush what the others are still crawling
    # The shared pace (crawl.download_delay, or a site's Crawl-delay) replaces the local one: a second, local delay
    # after the shared one would bunch requests up.
    DOWNLOAD_DELAY = 0
    AUTOTHROTTLE_ENABLED = False
    DOWNLOADER_MIDDLEWARES = {
        **DOWNLOADER_MIDDLEWARES,
        "crawler.middlewares.PolitenessMiddleware": None,
        "crawler.scaleout.pace.SharedPolitenessMiddleware": 110,  # learns each site's robots.txt delay, shares it
    }
    DOWNLOAD_HANDLERS = {  # Scrapy's HTTP handler, after a wait for the site's turn right before each send
        **DOWNLOAD_HANDLERS,
        "http": "crawler.scaleout.pace.PacedDownloadHandler",
        "https": "crawler.scaleout.pace.PacedDownloadHandler",
    }
