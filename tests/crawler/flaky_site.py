"""A publisher whose pages fail in the first crawl and (mostly) recover in the next: `site.phase = 2` switches.

Reusable (benchmarks, other tests): `FlakySite()` serves on 127.0.0.1, `registry(dir)` writes its source registry.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.crawler.test_hostile import article

# path → (first-phase failure, recovers in phase 2?)
PAGES = {
    "/forbidden-then-ok": ("403", True),
    "/busy-for-an-hour": ("503 Retry-After: 3600", True),
    "/empty-then-ok": ("empty 200", True),
    "/dropped-then-ok": ("connection dropped", True),
    "/always-forbidden": ("403", False),
    "/gone": ("404", False),
    "/good": ("", True),
}


class FlakySite:
    def __init__(self):
        self.phase = 1
        self.hits: list[tuple[int, str]] = []  # (phase, path)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return self.base + path

    def hits_of(self, path: str, phase: int) -> int:
        return sum(1 for p, h in self.hits if p == phase and h == path)

    def registry(self, directory) -> str:
        path = directory / "flaky.toml"
        netloc = self.base.split("//")[1]
        path.write_text(f'[[source]]\nname = "flaky"\ntitle = "Flaky Motors"\nhomepage = "{self.base}/"\n'
                        f'feeds = ["{self.base}/feed.xml"]\nrobots_sitemaps = false\n'
                        f'allowed_domains = ["{netloc}"]\n', encoding="utf-8")
        return path

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802
                if self.path == "/robots.txt":
                    return self._send(200, b"User-agent: *\n", {"Content-Type": "text/plain"})
                if self.path == "/feed.xml":
                    items = "".join(f"<item><title>{p}</title><link>{site.base}{p}</link></item>" for p in PAGES)
                    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>{items}</channel></rss>'
                    return self._send(200, body.encode(), {"Content-Type": "application/rss+xml"})
                site.hits.append((site.phase, self.path))
                failure, recovers = PAGES.get(self.path, ("404", False))
                if not failure or (site.phase > 1 and recovers):
                    return self._send(200, article(f"Flaky EV battery story {self.path.strip('/')}"))
                if failure == "connection dropped":
                    self.close_connection = True
                    return None
                if failure == "empty 200":
                    return self._send(200, b"")
                status = int(failure.split()[0])
                headers = {"Retry-After": failure.split(": ")[1]} if "Retry-After" in failure else {}
                return self._send(status, b"no", headers)

            def _send(self, status, body, headers=None):
                self.send_response(status)
                for k, v in {"Content-Type": "text/html; charset=utf-8", **(headers or {})}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def close(self):
        self.server.shutdown()
        self.server.server_close()
