"""Turn a failed request (a Twisted Failure) into a short skip reason for the crawl summary."""

from __future__ import annotations

from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError, TimeoutError as DeferTimeoutError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError, TimeoutError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived


def failure_reason(failure: Failure) -> str:
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return "http_5xx" if status >= 500 else f"http_{status}"
    if isinstance(exc, IgnoreRequest):
        text = str(exc).lower()
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
    if isinstance(exc, (CancelledError, DownloadCancelledError)):
        return "too_large"  # Scrapy cancels downloads that pass DOWNLOAD_MAXSIZE
    if isinstance(exc, DNSLookupError):
        return "dns"
    if isinstance(exc, (TimeoutError, TCPTimedOutError, DeferTimeoutError)):
        return "timeout"
    if isinstance(exc, (ConnectionRefusedError, ResponseNeverReceived, ResponseFailed)):
        return "connection"
    return type(exc).__name__.lower()
