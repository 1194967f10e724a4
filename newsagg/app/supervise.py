"""`newsagg up`: the scheduler, the API and the dashboard as child processes of one command.

A child that exits is restarted after a growing pause (1 s, 2 s, 4 s … 60 s); Ctrl-C or SIGTERM stops them all:
SIGTERM first, SIGKILL for whoever is still there after the grace time.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

from newsagg.app.processes import (
    PARENT_ENV,
    Stopping,
    cli_argv,
    install_stop_handlers,
    signal_process_group,
)
from newsagg.config import Settings

log = logging.getLogger(__name__)
MAX_BACKOFF = 60.0
HEALTHY_AFTER = 60.0  # a child that ran this long starts its backoff from scratch when it next exits


@dataclass
class Service:
    name: str
    argv: list[str]
    url: str | None = None
    proc: subprocess.Popen | None = field(default=None, repr=False)
    started: float = 0.0
    failures: int = 0
    restart_at: float = 0.0


def deployment(settings: Settings) -> list[Service]:
    """The services of a deployment: scheduler, API, dashboard (each a `newsagg` child on its configured address)."""
    api, dashboard = settings.api, settings.dashboard
    return [
        Service("scheduler", cli_argv("schedule")),
        Service("api", cli_argv("api"), f"http://{api.host}:{api.port}/"),
        Service("dashboard", cli_argv("dashboard"), f"http://{dashboard.host}:{dashboard.port}/"),
    ]


class Supervisor:
    """Keeps a set of services running until stopped."""

    def __init__(self, services: list[Service], stop_timeout: float = 30.0):
        self.services = services
        # The scheduler itself waits stop_timeout for its crawl: give it that and a little more.
        self.stop_timeout = stop_timeout + 10.0
        self.stopping = Stopping()

    def describe(self) -> list[str]:
        lines = [f"{s.name:>10}: {s.url or ' '.join(s.argv[2:])}" for s in self.services]
        return lines + ["Ctrl-C to stop everything."]

    def run(self) -> int:
        """Start everything, restart what exits, stop all on SIGTERM/SIGINT; returns an exit status."""
        if not self.services:
            log.error("nothing to run")
            return 1
        install_stop_handlers(self.stopping.request)
        for service in self.services:
            self._start(service)
        while not self.stopping.soft.wait(0.5):
            now = time.monotonic()
            for service in self.services:
                if service.proc is not None and service.proc.poll() is not None:
                    self._exited(service, now)
                elif service.proc is None and now >= service.restart_at:
                    self._start(service)
        self._stop_all()
        return 0

    def _start(self, service: Service) -> None:
        env = {**os.environ, PARENT_ENV: str(os.getpid())}
        service.proc = subprocess.Popen(service.argv, env=env, start_new_session=True)
        service.started = time.monotonic()
        log.info("%s started (pid %s)", service.name, service.proc.pid)

    def _exited(self, service: Service, now: float) -> None:
        code = service.proc.returncode
        service.failures = 0 if now - service.started > HEALTHY_AFTER else service.failures + 1
        pause = min(MAX_BACKOFF, 2.0 ** max(service.failures - 1, 0))
        log.warning("%s exited with %s; restarting in %.0fs", service.name, code, pause)
        service.proc, service.restart_at = None, now + pause

    def _stop_all(self) -> None:
        running = [s for s in self.services if s.proc is not None and s.proc.poll() is None]
        for service in running:
            signal_process_group(service.proc, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for service in running:
            while service.proc.poll() is None and time.monotonic() < deadline and not self.stopping.hard.is_set():
                time.sleep(0.1)
            if service.proc.poll() is None:
                log.warning("%s did not stop in time: killing it", service.name)
                signal_process_group(service.proc, signal.SIGKILL)
                service.proc.wait()
            log.info("%s stopped (%s)", service.name, service.proc.returncode)

