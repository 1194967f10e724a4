"""The SSRF guard where it holds: in the DNS resolver the downloader connects through (TWISTED_DNS_RESOLVER).

A guard that looks a host up on its own and lets Scrapy look it up again to connect is beaten by DNS rebinding
(public address for the check, loopback for the connection). AddressGuardResolver is Scrapy's
CachingHostnameResolver with a filter: every address the system resolver returns is checked
(`newsagg.urls.address_refusal`) before the connecting endpoint sees it, so a connection can only go to an allowed
address; only those are cached (for the crawl, as Scrapy does), so a later answer cannot swap them. Lookups run in
the reactor's thread pool (Twisted's getaddrinfo resolver), never on the reactor thread. A host whose every
address was refused is remembered in `refused_hosts`, for PrivateAddressMiddleware to report and to refuse its
retries and redirects at once. With crawl.allow_private_hosts (demo sites, tests) nothing is filtered.
"""

from __future__ import annotations

import logging

import attr
from scrapy.resolver import HostResolution
from scrapy.utils.datatypes import LocalCache
from twisted.internet.interfaces import IHostnameResolver, IResolutionReceiver
from zope.interface import implementer, provider

from crawler.runtime import newsagg_settings
from newsagg.urls import address_refusal

log = logging.getLogger(__name__)
refused_hosts: LocalCache[str, str] = LocalCache(10_000)  # host → why its addresses were refused
_allowed: LocalCache[str, list] = LocalCache(10_000)  # host → the addresses that passed (port-agnostic)


@provider(IResolutionReceiver)
class _GuardingReceiver:
    """Passes on only the allowed addresses of one lookup, then caches them (or records the refusal)."""

    def __init__(self, receiver, host: str, allow_private: bool):
        self.receiver, self.host, self.allow_private = receiver, host, allow_private
        self.addresses: list = []
        self.refused: list[str] = []

    def resolutionBegan(self, resolution) -> None:  # noqa: N802 (Twisted's interface)
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address) -> None:  # noqa: N802
        reason = None if self.allow_private else _refusal(address.host)
        if reason:
            self.refused.append(f"{address.host} ({reason})")
            return
        self.addresses.append(address)
        self.receiver.addressResolved(address)

    def resolutionComplete(self) -> None:  # noqa: N802
        if self.addresses:
            _allowed[self.host] = [_address_with_port(a, 0) for a in self.addresses]
        if self.refused:
            log.warning("SSRF guard: %s resolved to refused address(es) %s", self.host, ", ".join(self.refused[:4]))
            if not self.addresses:
                refused_hosts[self.host] = self.refused[0]
        # No address left: the endpoint fails with DNSLookupError and connects nowhere. A failed lookup is not
        # cached, so it is neither allowed later nor remembered as refused: the next try looks it up again.
        self.receiver.resolutionComplete()


def _address_with_port(address, port: int):
    """Cached addresses are port-agnostic (as in Scrapy's resolver); a hit gets the requested port."""
    return address if getattr(address, "port", port) == port else attr.evolve(address, port=port)


def _refusal(host: str) -> str | None:
    try:
        return address_refusal(host)
    except ValueError:
        return "not an IP address"


@implementer(IHostnameResolver)
class AddressGuardResolver:
    """Scrapy's caching hostname resolver (IPv4 and IPv6) that hands the connection only allowed addresses."""

    def __init__(self, reactor, cache_size: int, allow_private: bool):
        self.reactor = reactor
        self.original_resolver = reactor.nameResolver
        self.allow_private = allow_private
        _allowed.limit = cache_size

    @classmethod
    def from_crawler(cls, crawler, reactor) -> "AddressGuardResolver":
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(reactor, cache_size, newsagg_settings(crawler).crawl.allow_private_hosts)

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def resolveHostName(self, resolutionReceiver, hostName: str, portNumber: int = 0,  # noqa: N802, N803
                        addressTypes=None, transportSemantics: str = "TCP"):  # noqa: N803
        cached = _allowed.get(hostName) if _allowed.limit else None
        if cached is None:
            return self.original_resolver.resolveHostName(
                _GuardingReceiver(resolutionReceiver, hostName, self.allow_private), hostName, portNumber,
                addressTypes, transportSemantics)
        resolutionReceiver.resolutionBegan(HostResolution(hostName))
        for address in cached:
            resolutionReceiver.addressResolved(_address_with_port(address, portNumber))
        resolutionReceiver.resolutionComplete()
        return resolutionReceiver
