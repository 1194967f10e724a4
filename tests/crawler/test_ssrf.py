"""The SSRF guard holds at connect time: DNS rebinding, names resolving to loopback, failed lookups, IP literals.

The crawls run with `crawl.allow_private_hosts` OFF, through `ssrf_child.py`: a scripted DNS for made-up names
(the only fake: the outside internet) and a tripwire that refuses, and logs, any connect off loopback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.crawler.test_hostile import Publisher
from twisted.internet.address import IPv4Address, IPv6Address

from crawler import resolver as guard
from newsagg.demo import local_crawl_env
from newsagg.store import Store

CHILD = Path(__file__).with_name("ssrf_child.py")
PUBLIC = "93.184.216.34"  # is_global; never reached: the tripwire refuses it


def guarded_crawl(tmp_path: Path, registry: Path, dns: dict,
                  delays: dict | None = None) -> tuple[subprocess.CompletedProcess, list[str]]:
    log = tmp_path / "ssrf.log"
    env = local_crawl_env(NEWSAGG_DATABASE_URL=f"sqlite:///{tmp_path / 's.db'}", NEWSAGG_CRAWL__RETRY_TIMES="1",
                          NEWSAGG_CRAWL__ALLOW_PRIVATE_HOSTS="false", SSRF_DNS=json.dumps(dns),
                          SSRF_DNS_DELAY=json.dumps(delays or {}), SSRF_LOG=str(log))
    proc = subprocess.run([sys.executable, str(CHILD), "crawl", "--registry", str(registry), "--quiet"],
                          env=env, capture_output=True, text=True, timeout=120)
    return proc, log.read_text().splitlines() if log.exists() else []


def registry_for(tmp_path: Path, publisher: Publisher, *hosts: str) -> Path:
    port = publisher.base.rsplit(":", 1)[1]
    path = tmp_path / f"{hosts[0]}.toml"
    path.write_text("".join(
        f'[[source]]\nname = "guarded{i}"\ntitle = "Guarded"\nhomepage = "http://{host}:{port}/"\n'
        f'feeds = ["http://{host}:{port}/feed.xml"]\nrobots_sitemaps = false\nallowed_domains = ["{host}"]\n\n'
        for i, host in enumerate(hosts)), encoding="utf-8")
    return path


@pytest.fixture
def publisher():
    p = Publisher(feed_paths=["/good-1"])
    yield p
    p.close()


def skips(tmp_path: Path) -> dict:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        return store.runs()[0].skips
    finally:
        store.close()


@pytest.mark.slow
def test_a_rebinding_name_never_reaches_loopback(tmp_path, publisher):
    """Public for the first lookup, loopback for every later one: a check-then-connect guard is fooled into
    connecting to 127.0.0.1; here every connect goes to an address the guard saw and allowed."""
    proc, log = guarded_crawl(tmp_path, registry_for(tmp_path, publisher, "rebind.newsagg.test"),
                              {"rebind.newsagg.test": [PUBLIC, "127.0.0.1"]})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert publisher.hits == [], "the crawler reached the loopback server through a rebinding name"
    connects = {line.split()[1] for line in log if line.startswith("connect")}
    assert connects == {PUBLIC}, log


@pytest.mark.slow
def test_a_name_resolving_to_loopback_is_refused_before_connecting(tmp_path, publisher):
    proc, log = guarded_crawl(tmp_path, registry_for(tmp_path, publisher, "inside.newsagg.test"),
                              {"inside.newsagg.test": ["127.0.0.1"]})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert publisher.hits == []
    assert not [line for line in log if line.startswith("connect")], log
    assert skips(tmp_path).get("blocked_address", 0) >= 1  # the feed (robots.txt is Scrapy's own request)


@pytest.mark.slow
def test_a_failed_lookup_is_refused_not_allowed(tmp_path, publisher):
    """Unresolvable first, loopback after: the failure is not cached as 'allowed', and the retry is refused."""
    proc, log = guarded_crawl(tmp_path, registry_for(tmp_path, publisher, "flaky.newsagg.test"),
                              {"flaky.newsagg.test": [None, "127.0.0.1"]})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert publisher.hits == []
    assert not [line for line in log if line.startswith("connect")], log
    assert sum(1 for line in log if line.startswith("lookup")) >= 2  # looked up again, not cached


@pytest.mark.slow
def test_ip_literal_urls_are_refused(tmp_path, publisher):
    proc, log = guarded_crawl(tmp_path, registry_for(tmp_path, publisher, "127.0.0.1"), {})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert publisher.hits == []
    assert skips(tmp_path).get("blocked_address", 0) >= 1


@pytest.mark.slow
def test_a_slow_lookup_does_not_freeze_the_crawl(tmp_path, publisher):
    """Lookups run off the reactor thread: while one site's name takes 3 s to resolve, another site's requests
    go ahead (a guard that resolves on the reactor thread stalls the whole crawl, and in scale-out its leases)."""
    proc, log = guarded_crawl(tmp_path, registry_for(tmp_path, publisher, "slow.newsagg.test", "fast.newsagg.test"),
                              {"slow.newsagg.test": [PUBLIC], "fast.newsagg.test": [PUBLIC]},
                              delays={"slow.newsagg.test": 3.0})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    slow_resolved = min(float(line.split()[-1]) for line in log if line.startswith("lookup slow."))
    fast_lookups = [float(line.split()[-1]) for line in log if line.startswith("lookup fast.")]
    assert fast_lookups and min(fast_lookups) < slow_resolved - 2.0, log


# ---- the resolver itself, over a scripted system resolver -------------------------------------------------
class _Receiver:
    def __init__(self):
        self.addresses, self.done = [], False

    def resolutionBegan(self, resolution):  # noqa: N802
        pass

    def addressResolved(self, address):  # noqa: N802
        self.addresses.append(address.host)

    def resolutionComplete(self):  # noqa: N802
        self.done = True


class _ScriptedResolver:
    def __init__(self, answers):
        self.answers, self.calls = answers, 0

    def resolveHostName(self, receiver, host, portNumber=0, addressTypes=None, transportSemantics="TCP"):  # noqa
        self.calls += 1
        receiver.resolutionBegan(None)
        for ip in self.answers:
            receiver.addressResolved((IPv6Address if ":" in ip else IPv4Address)("TCP", ip, portNumber))
        receiver.resolutionComplete()
        return receiver


def resolve(resolver, host):
    receiver = _Receiver()
    resolver.resolveHostName(receiver, host, 443)
    assert receiver.done
    return receiver.addresses


@pytest.fixture
def scripted(monkeypatch):
    def make(answers, allow=False):
        system = _ScriptedResolver(answers)
        reactor = type("Reactor", (), {"nameResolver": system})()
        return guard.AddressGuardResolver(reactor, cache_size=100, allow_private=allow), system

    monkeypatch.setattr(guard, "_allowed", guard.LocalCache(100))
    monkeypatch.setattr(guard, "refused_hosts", guard.LocalCache(100))
    return make


def test_resolver_passes_only_public_addresses_and_caches_them(scripted):
    resolver, system = scripted([PUBLIC, "10.0.0.7", "2002:a9fe:a9fe::1", "2606:4700::1111"])
    assert resolve(resolver, "mixed.test") == [PUBLIC, "2606:4700::1111"]
    system.answers = ["127.0.0.1"]  # rebinding after the first answer: the cached, checked addresses stay
    assert resolve(resolver, "mixed.test") == [PUBLIC, "2606:4700::1111"] and system.calls == 1


def test_resolver_refuses_a_name_with_only_private_addresses(scripted):
    resolver, _ = scripted(["100.100.100.200", "::ffff:127.0.0.1"])
    assert resolve(resolver, "meta.test") == []
    assert "meta.test" in guard.refused_hosts


def test_resolver_does_not_cache_a_failed_lookup(scripted):
    resolver, system = scripted([])
    assert resolve(resolver, "gone.test") == []
    assert "gone.test" not in guard.refused_hosts and "gone.test" not in guard._allowed
    system.answers = ["127.0.0.1"]
    assert resolve(resolver, "gone.test") == [] and system.calls == 2


def test_allow_private_hosts_passes_loopback(scripted):
    resolver, _ = scripted(["127.0.0.1"], allow=True)
    assert resolve(resolver, "demo.test") == ["127.0.0.1"]


def test_a_response_from_a_private_peer_is_refused():
    """The last line: whatever connected (a proxy, another download handler), a private peer's page is dropped."""
    from ipaddress import ip_address

    from scrapy import Request
    from scrapy.exceptions import IgnoreRequest
    from scrapy.http import HtmlResponse

    from crawler.middlewares import PrivateAddressMiddleware

    request = Request("http://news.example/a")
    private = HtmlResponse(request.url, body=b"<html></html>", request=request, ip_address=ip_address("10.0.0.5"))
    public = HtmlResponse(request.url, body=b"<html></html>", request=request, ip_address=ip_address(PUBLIC))
    with pytest.raises(IgnoreRequest, match="private address"):
        PrivateAddressMiddleware(allow=False).process_response(request, private)
    assert PrivateAddressMiddleware(allow=False).process_response(request, public) is public
    assert PrivateAddressMiddleware(allow=True).process_response(request, private) is private
