"""Store.exclusive: two real processes never hold one section at once (advisory lock on PostgreSQL, file lock
on SQLite), and `newsagg index` updates the index inside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsagg.app.cli import INDEX_LOCK
from newsagg.store import Store

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import json, sys, time
from newsagg.store import Store
url, start_at = sys.argv[1], float(sys.argv[2])
store = Store(url)
time.sleep(max(0.0, start_at - time.time()))  # both processes ask for the lock at the same moment
asked = time.time()
with store.exclusive("test-section"):
    got = time.time()
    time.sleep(1.0)
    left = time.time()
print(json.dumps({"asked": asked, "got": got, "left": left}))
"""


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


@pytest.mark.slow
def test_two_processes_take_turns_in_one_section(database_url):
    Store(database_url).close()  # migrated once up front, so the two processes only race for the lock
    start_at = f"{time.time() + 4:.3f}"
    procs = [subprocess.Popen([sys.executable, "-c", HOLDER, database_url, start_at], stdout=subprocess.PIPE,
                              text=True, env=_env()) for _ in range(2)]
    holds = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        holds.append(json.loads(out.strip().splitlines()[-1]))
    first, second = sorted(holds, key=lambda h: h["got"])
    assert second["asked"] < first["left"], "the second asked after the first had finished: nothing was tested"
    assert second["got"] >= first["left"]  # held one after the other, never overlapping


def test_a_second_holder_in_the_same_process_waits_and_is_told(database_url, tmp_path):
    import threading

    store = Store(database_url)
    order: list[str] = []
    with store.exclusive("section"):
        t = threading.Thread(target=lambda: _hold(store, order))
        t.start()
        time.sleep(0.5)
        order.append("first leaves")
    t.join(30)
    assert order == ["waiting", "first leaves", "second holds"]
    store.close()


def _hold(store: Store, order: list[str]) -> None:
    with store.exclusive("section", on_wait=lambda: order.append("waiting")):
        order.append("second holds")


@pytest.mark.slow
def test_newsagg_index_waits_for_an_index_update_running_elsewhere(pg_database_url, tmp_path):
    """Two machines, one PostgreSQL: nothing shared but the database (separate data dirs, so no file lock)."""
    store = Store(pg_database_url)
    with store.exclusive(INDEX_LOCK):  # the "other machine's" update in progress
        proc = subprocess.Popen([sys.executable, "-m", "newsagg.app.cli", "index"], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
                                env=_env(NEWSAGG_DATABASE_URL=pg_database_url, NEWSAGG_DATA_DIR=str(tmp_path),
                                         NEWSAGG_CONFIG=str(tmp_path / "none.toml"), COLUMNS="200"))
        lines = []
        for line in proc.stdout:  # until it says it waits (or ends, which fails below)
            lines.append(line)
            if "waiting for it to finish" in line:
                break
        time.sleep(1.0)
        assert proc.poll() is None, "".join(lines) + proc.stdout.read()  # still waiting while the lock is held
    out = proc.stdout.read()
    assert proc.wait(timeout=300) == 0, "".join(lines) + out
    assert "index v" in out  # and it then did the update
    store.close()
