"""`newsagg up`'s supervisor: scheduler, API and dashboard, restarts with backoff, everything stopped on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from newsagg.app.supervise import deployment
from newsagg.config import Settings
from tests.schedule.sched_support import running, wait_for

SUPERVISOR = r"""
import logging, sys
from newsagg.app.supervise import Service, Supervisor
logging.basicConfig(level=logging.INFO)
record = "import os, sys, time; print(os.getpid(), file=open(sys.argv[1], 'a'), flush=True); "
steady = [sys.executable, "-c", record + "time.sleep(600)", sys.argv[1] + "/steady.pids"]
flaky = [sys.executable, "-c", record + "sys.exit(3)", sys.argv[1] + "/flaky.pids"]
sys.exit(Supervisor([Service("steady", steady), Service("flaky", flaky)], stop_timeout=1).run())
"""


def lines(path) -> list[str]:
    return path.read_text().split() if path.exists() else []


@pytest.mark.slow
def test_restarts_what_exits_and_stops_everything_on_sigterm(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", SUPERVISOR, str(tmp_path)], stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(lines(tmp_path / "flaky.pids")) >= 3, timeout=20, what="two restarts (after 1 s, 2 s)")
        assert len(lines(tmp_path / "steady.pids")) == 1  # left alone
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
    assert code == 0, proc.stderr.read()
    steady_pid = int(lines(tmp_path / "steady.pids")[0])
    time.sleep(0.2)
    assert not running(steady_pid)


def test_deployment_runs_scheduler_api_and_dashboard_where_the_settings_say(tmp_path):
    settings = Settings(data_dir=tmp_path, api={"host": "127.0.0.2", "port": 9123},
                        dashboard={"host": "127.0.0.3", "port": 9124})
    services = {s.name: s for s in deployment(settings)}
    assert sorted(services) == ["api", "dashboard", "scheduler"]
    assert services["scheduler"].argv[1:] == ["-m", "newsagg.app.cli", "schedule"]
    assert services["api"].argv[-1] == "api" and services["api"].url == "http://127.0.0.2:9123/"
    assert services["dashboard"].argv[-1] == "dashboard" and services["dashboard"].url == "http://127.0.0.3:9124/"
