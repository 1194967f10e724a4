"""Prometheus metrics: requests and latency by route, and the index being served (size, version, model).

Each app has its own registry (several apps in one process, as in tests, never collide). Index figures are read
from the API state when scraped, so they can never drift from what is actually served.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from recommender.api.dependencies import ApiState

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class ApiMetrics:
    def __init__(self, state: ApiState):
        self.registry = CollectorRegistry()
        self.requests = Counter("newsagg_api_requests", "HTTP requests by route template, method and status.",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("newsagg_api_request_duration_seconds", "Request latency by route template.",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.registry.register(_StateCollector(state))
        self._children: dict[tuple[str, str, int], tuple] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:  # label lookups cost more than the increments; keep the children
            children = self._children[key] = (self.requests.labels(route, method, str(status)),
                                              self.latency.labels(route))
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _StateCollector:
    def __init__(self, state: ApiState):
        self.state = state

    def collect(self):
        state, loader, stamp = self.state, self.state.loader, self.state.stamp
        yield _gauge("newsagg_api_ready", "1 when the store and an index snapshot are loaded.", int(stamp is not None))
        yield _gauge("newsagg_index_articles", "Articles in the index being served.", stamp.count if stamp else 0)
        yield _gauge("newsagg_index_version", "Version of the index snapshot being served.",
                     stamp.version if stamp else 0)
        info = GaugeMetricFamily("newsagg_index_info", "Model and kind of the index being served.",
                                 labels=["model", "kind"])
        if stamp is not None:
            info.add_metric([stamp.model, stamp.kind], 1)
        yield info
        yield _gauge("newsagg_index_load_seconds", "How long the last snapshot load took.", loader.load_seconds)
        swaps = CounterMetricFamily("newsagg_index_swaps", "Snapshots swapped in without a restart.")
        swaps.add_metric([], loader.swaps)
        yield swaps
        cache = state.related
        yield _gauge("newsagg_related_cache_entries", "Related lists held in memory.", len(cache))
        lookups = CounterMetricFamily("newsagg_related_cache_lookups", "Related-list lookups by result.",
                                      labels=["result"])
        for result, value in (("hit", cache.hits), ("miss", cache.misses), ("stale", cache.stale)):
            lookups.add_metric([result], value)
        yield lookups


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)
