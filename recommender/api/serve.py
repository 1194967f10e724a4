"""Serve the API with uvicorn: `newsagg api`.

The socket is bound before uvicorn starts, so the printed URL is the real one even for `--port 0` (the load
benchmark and tests read it), and connections made right after it is printed wait in the backlog instead of
being refused.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

from newsagg.config import Settings

BACKLOG = 2048


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio turns Nagle off (TCP_NODELAY) only on sockets that do, and with Nagle on, a
    # response written in two parts waits for the client's delayed ACK: ~40 ms per keep-alive request
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def serve(settings: Settings, host: str, port: int, announce: Callable[[str], None] = print) -> None:
    """Run until SIGINT/SIGTERM; `announce` gets the base URL once the socket listens."""
    import uvicorn

    from recommender.api import create_app

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("newsagg", "recommender"):
        logging.getLogger(name).setLevel(logging.INFO)
    sock = bind(host, port)
    # http/loop "auto": httptools and uvloop (dependencies, lighter per request), h11 and asyncio where they are missing
    config = uvicorn.Config(create_app(settings), log_level="info", access_log=settings.api.access_log,
                            server_header=False, timeout_graceful_shutdown=10)
    announce(base_url(sock))
    uvicorn.Server(config).run(sockets=[sock])
