"""Plain ASGI middleware (no BaseHTTPMiddleware: it costs a task and a copy per request on the hot path)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recommender.api.metrics import ApiMetrics
from recommender.api.problems import ApiProblem, problem_response


# h11 accepts any token as a method: labelled as it came, `curl -X RANDOM123` in a loop would grow the metric
# series without bound. Methods outside this set share one label.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "other"


class MetricsMiddleware:
    """Counts and times every request under its route template (`/articles/{article_id}`, never the raw path)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets if the app dies before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")  # set by the router on the shared scope once a route matched
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(template, method_label(scope["method"]), status, time.perf_counter() - start)


class BodyTooLarge(ApiProblem):
    def __init__(self, limit: int):
        super().__init__(413, f"request body larger than {limit} bytes")


class BodyLimitMiddleware:
    """Refuses bodies over a size before anything buffers them (the declared length, and the bytes as they come)."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await problem_response(None, 400, "invalid Content-Length")(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await problem_response(None, 413, f"request body larger than {self.max_bytes} bytes")(
                    scope, receive, send)
                return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # an HTTPException, so FastAPI's body parsing passes it on to the problem handler as is
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted_receive, send)
