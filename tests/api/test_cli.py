"""`newsagg api --host --port` starts the server and prints its URL."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time

import httpx
import psutil
import pytest

pytestmark = pytest.mark.slow


def start_api(tmp_path, **env_extra: str):
    """`newsagg api --port 0` over an empty data dir (torch backend: nothing to build first); its log file."""
    env = {**os.environ, "NEWSAGG_DATA_DIR": str(tmp_path), "NEWSAGG_CONFIG": str(tmp_path / "none.toml"),
           "HF_HUB_OFFLINE": "1", "NEWSAGG_EMBEDDING__BACKEND": "torch", **env_extra}
    log = open(tmp_path / "api.log", "w")  # noqa: SIM115 — closed by the test
    proc = subprocess.Popen([sys.executable, "-m", "newsagg.app.cli", "api", "--host", "127.0.0.1", "--port", "0"],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=log, text=True)
    return proc, log


def test_newsagg_api_prints_its_url_and_serves(tmp_path):
    proc, log = start_api(tmp_path)  # a SIGTERM during the onnx build is tested in test_embed_backends
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        url = match.group(0)
        r = httpx.get(url + "livez", timeout=30)
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        # an empty data dir: the store opens, but no snapshot exists yet
        ready = httpx.get(url + "readyz", timeout=30)
        assert ready.status_code == 503 and ready.headers["content-type"] == "application/problem+json"
        assert httpx.get(url + "openapi.json", timeout=30).json()["info"]["title"] == "newsagg API"
        assert httpx.get(url + "docs", timeout=30).status_code == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    # uvicorn shuts down gracefully, then re-raises the SIGTERM it caught (so the exit status tells a supervisor)
    output = (tmp_path / "api.log").read_text()
    assert proc.returncode in (0, -signal.SIGTERM) and "Application shutdown complete" in output, output[-2000:]


def test_api_workers_share_the_port_a_dead_one_is_replaced_and_sigterm_ends_them_all(tmp_path):
    proc, log = start_api(tmp_path, NEWSAGG_API__WORKERS="2")
    parent = psutil.Process(proc.pid)
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+/", proc.stdout.readline()).group(0)
        assert httpx.get(url + "livez", timeout=30).status_code == 200  # the first worker answers at once
        workers = wait_for(lambda: len(parent.children()) == 2 and parent.children())
        workers[0].kill()  # SIGKILL: the supervisor starts another in its place
        replaced = wait_for(lambda: len(kids := parent.children()) == 2 and workers[0].pid not in
                            {k.pid for k in kids} and kids)
        assert workers[1].pid in {k.pid for k in replaced}
        assert httpx.get(url + "livez", timeout=30).status_code == 200
        proc.terminate()
        proc.wait(timeout=60)
        gone, alive = psutil.wait_procs(replaced, timeout=30)
        assert not alive  # no worker outlives its supervisor
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    output = (tmp_path / "api.log").read_text()
    assert proc.returncode in (0, -signal.SIGTERM), output[-2000:]
    assert "exited (signal 9); starting another" in output, output[-2000:]


def test_api_workers_stop_when_their_supervisor_is_killed(tmp_path):
    """SIGKILL of the supervisor (it cannot pass anything on): its workers notice and end, freeing the port."""
    proc, log = start_api(tmp_path, NEWSAGG_API__WORKERS="2")
    workers: list[psutil.Process] = []
    try:
        assert re.search(r"http://127\.0\.0\.1:\d+/", proc.stdout.readline())
        workers = wait_for(lambda: len(kids := psutil.Process(proc.pid).children()) == 2 and kids)
        proc.kill()
        proc.wait()
        gone, alive = psutil.wait_procs(workers, timeout=30)
        assert not alive, alive
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for w in workers:  # none should be left; never leak one
            with contextlib.suppress(psutil.Error):
                w.kill()
        log.close()
    assert "Application shutdown complete" in (tmp_path / "api.log").read_text()  # ended gracefully


def wait_for(condition, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return found


def test_newsagg_demo_never_prints_the_database_password(tmp_path, pg_database_url):
    # trust authentication ignores the password, so the URL works and the password is only there to leak
    url = pg_database_url.replace("://postgres@", "://postgres:s3cr3t-pw@", 1)
    assert "s3cr3t-pw" in url
    env = {**os.environ, "NEWSAGG_DATA_DIR": str(tmp_path), "NEWSAGG_CONFIG": str(tmp_path / "none.toml"),
           "NEWSAGG_DATABASE_URL": url, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    run = subprocess.run([sys.executable, "-m", "newsagg.app.cli", "demo", "--no-serve"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Store: postgresql+psycopg://postgres:***@127.0.0.1" in run.stdout
    assert "s3cr3t-pw" not in run.stdout + run.stderr
