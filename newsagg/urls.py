"""URL normalisation shared by the crawler (dedupe) and the recommender (lookup by URL)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that identify a campaign or a click, never the content.
TRACKING_PARAMS = {
    "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga", "_gl",
    "cmpid", "ocid", "ncid", "sr_share", "smid", "guccounter", "ito", "taid", "rss", "amp", "outputtype",
}
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_", "__twitter", "hsa_", "oly_")


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, drop default ports, fragments and tracking parameters; keep the rest in order."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))


def is_http_url(url: str | None) -> bool:
    if not url:
        return False
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.hostname)


# Not covered by `ipaddress`'s is_global (Python 3.11) yet never a publisher's web server.
_REFUSED_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "100.64.0.0/10",  # carrier-grade NAT (shared space), incl. 100.100.100.200, a cloud metadata address
    "192.0.0.0/24",  # IETF protocol assignments
    "::/96",  # IPv4-compatible IPv6 (deprecated): ::127.0.0.1
    "64:ff9b:1::/48",  # local-use NAT64
    "fec0::/10",  # site-local IPv6 (deprecated)
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def address_refusal(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why the crawler must not connect to this IP address (SSRF guard); None for a public unicast address.

    Raises ValueError for something that is not an IP address.
    """
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"IPv4-mapped IPv6 ({ip.ipv4_mapped})"
        embedded = ip.sixtofour or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if embedded is not None and address_refusal(embedded):
            return f"6to4/NAT64 address embedding {embedded}"
    if ip.is_multicast:
        return "multicast"
    if any(ip in net for net in _REFUSED_NETWORKS if net.version == ip.version):
        return "reserved range"
    if not ip.is_global:
        return "not a global address (loopback, private, link-local, reserved …)"
    return None


def host_refusal(host: str) -> str | None:
    """Why a host is refused: an IP literal that is not public, a name that resolves to one, or a failed lookup.

    Blocking (getaddrinfo): for the CLI. The crawl itself checks the address it connects to (crawler/resolver.py).
    """
    host = host.strip("[]")
    try:
        return address_refusal(host)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return "does not resolve"
    for info in infos:
        reason = address_refusal(info[4][0])
        if reason:
            return f"resolves to {info[4][0]}: {reason}"
    return None if infos else "does not resolve"


def is_private_host(host: str) -> bool:
    """True when a host is, or resolves to, an address the crawler must not reach, or does not resolve (SSRF)."""
    return host_refusal(host) is not None
