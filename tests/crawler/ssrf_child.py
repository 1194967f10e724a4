"""`newsagg` as a child process with a scripted DNS and a connect tripwire (the SSRF tests' crawl).

Run as `python ssrf_child.py crawl …`. SSRF_DNS (JSON) maps a host name to its answers, one per lookup (the last
repeats; null = lookup failure) — a rebinding name answers a public address first and loopback after;
SSRF_DNS_DELAY maps a host name to the seconds each of its lookups takes (a slow resolver). Every lookup (its end)
and every TCP connect is appended to SSRF_LOG with the time. A connect to an address that is not loopback is refused
right here (ECONNREFUSED): the test machine sends nothing to the outside, and the log shows where the crawler
tried to go.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import socket
import sys
import time

ANSWERS: dict[str, list] = json.loads(os.environ.get("SSRF_DNS", "{}"))
DELAYS: dict[str, float] = json.loads(os.environ.get("SSRF_DNS_DELAY", "{}"))
LOG = os.environ["SSRF_LOG"]
_lookups: dict[str, int] = {}
_real_getaddrinfo, _real_gethostbyname = socket.getaddrinfo, socket.gethostbyname


def _log(line: str) -> None:
    with open(LOG, "a", encoding="utf-8") as f:
        f.write(f"{line} {time.time():.3f}\n")


def _answer(host) -> str | None:
    host = host.decode() if isinstance(host, bytes) else host
    n = _lookups[host] = _lookups.get(host, 0) + 1
    time.sleep(DELAYS.get(host, 0.0))
    answers = ANSWERS[host]
    ip = answers[min(n, len(answers)) - 1]
    _log(f"lookup {host} {ip}")
    if ip is None:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return ip


def getaddrinfo(host, port, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    return _real_getaddrinfo(_answer(name) if name in ANSWERS else host, port, *args, **kwargs)


def gethostbyname(host):
    return _answer(host) if host in ANSWERS else _real_gethostbyname(host)


def _allowed(address) -> bool:
    try:
        return ipaddress.ip_address(address[0]).is_loopback
    except (ValueError, TypeError, IndexError):
        return True  # unix sockets and the like


class TripwireSocket(socket.socket):
    def connect(self, address):
        _log(f"connect {address[0]}")
        if not _allowed(address):
            raise ConnectionRefusedError(errno.ECONNREFUSED, "refused by the test tripwire")
        return super().connect(address)

    def connect_ex(self, address):
        _log(f"connect {address[0]}")
        if not _allowed(address):
            return errno.ECONNREFUSED
        return super().connect_ex(address)


socket.getaddrinfo, socket.gethostbyname, socket.socket = getaddrinfo, gethostbyname, TripwireSocket

if __name__ == "__main__":
    from newsagg.app.cli import app

    sys.argv = ["newsagg", *sys.argv[1:]]
    app()
