"""Turn a failed request (a Twisted Failure) into a short skip reason for the crawl summary."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from OpenSSL import SSL
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError, TimeoutError as DeferTimeoutError
from twisted.internet.error import (
    ConnectError,
    ConnectionClosed,
    DNSLookupError,
    SSLError as TwistedSSLError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived


# Scrapy (2.13+) wraps Twisted's errors in its own (the Twisted one as __cause__): both are recognised.
_DNS = (DNSLookupError, CannotResolveHostError)
_TIMEOUT = (TimeoutError, TCPTimedOutError, DeferTimeoutError, DownloadTimeoutError)
_CONNECTION = (ConnectError, ConnectionClosed, ResponseNeverReceived, ResponseFailed, DownloadConnectionRefusedError,
               DownloadFailedError, ResponseDataLossError)


def failure_reason(failure: Failure) -> str:
    """A short reason: http_<status>/http_5xx, dns, timeout, tls, connection, retry_after, blocked_address …"""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return "http_5xx" if status >= 500 else f"http_{status}"
    if getattr(exc, "retry_after", None) is not None:
        return "retry_after"  # the server asked for a longer pause than we wait within a crawl
    if isinstance(exc, IgnoreRequest):
        return _ignored_reason(str(exc).lower())
    chain = list(_causes(exc))
    if any(isinstance(e, (CancelledError, DownloadCancelledError)) for e in chain):
        return "too_large"  # Scrapy cancels downloads that pass DOWNLOAD_MAXSIZE
    for kinds, reason in ((_DNS, "dns"), (_TIMEOUT, "timeout")):
        if any(isinstance(e, kinds) for e in chain):
            return reason
    if any(_is_tls(e) for e in chain):
        return "tls"
    if any(isinstance(e, _CONNECTION) for e in chain):
        return "connection"  # refused, reset, or dropped before/during the response
    return type(exc).__name__.lower()[:40]


def retry_after_of(failure: Failure) -> float | None:
    """Seconds the server asked us to wait (RetryLater, or a Retry-After on the final 429/503), if it said."""
    exc = failure.value
    if getattr(exc, "retry_after", None) is not None:
        return exc.retry_after
    if isinstance(exc, HttpError):
        return retry_after_seconds(exc.response.headers.get("Retry-After"))
    return None


def _ignored_reason(text: str) -> str:
    if "decompression" in text:
        return "decompression_bomb"
    if "maxsize" in text or "too large" in text:
        return "too_large"
    if "forbidden by robots" in text:
        return "robots_forbidden"
    if "max redirections" in text:
        return "redirect_loop"
    if "private address" in text:
        return "blocked_address"
    return "ignored"


def _causes(exc: BaseException | None) -> Iterator[BaseException]:
    seen = 0
    while exc is not None and seen < 10:
        yield exc
        exc, seen = exc.__cause__, seen + 1  # `raise … from`: Scrapy keeps the Twisted error there


def _is_tls(exc: BaseException) -> bool:
    """A TLS handshake or record error, alone or inside Twisted's wrapped connection failures."""
    if isinstance(exc, (SSL.Error, TwistedSSLError)):
        return True
    inner = getattr(exc, "reasons", None) or []
    return any(isinstance(getattr(f, "value", None), SSL.Error) for f in inner)


def retry_after_seconds(value: bytes | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
