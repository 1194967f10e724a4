"""The scheduler's Redis group lock: one crawl of a group at a time across machines, renewed while held,
expiring when its holder dies."""

from __future__ import annotations

import subprocess
import sys
import time

from newsagg.app.schedule import RedisGroupLock


def test_held_lock_is_renewed_and_exclusive(redis_client, prefix):
    name = f"{prefix}:lock:group:feeds"
    mine, theirs = RedisGroupLock(redis_client, name, ttl=1.5), RedisGroupLock(redis_client, name, ttl=1.5)
    assert mine.acquire()
    assert not theirs.acquire()
    time.sleep(2.2)  # longer than the lease: the holder's renewals keep it
    assert not theirs.acquire() and not mine.lost
    mine.release()
    assert theirs.acquire()
    theirs.release()
    assert not redis_client.exists(name)


def test_a_dead_holders_lock_expires(redis_url, redis_client, prefix):
    name = f"{prefix}:lock:group:feeds"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time, redis; from newsagg.app.schedule import RedisGroupLock; "
         "lock = RedisGroupLock(redis.Redis.from_url(sys.argv[1]), sys.argv[2], ttl=1.5); "
         "print(lock.acquire(), flush=True); time.sleep(60)", redis_url, name],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
    finally:
        holder.kill()  # kill -9: no release, no more renewals
        holder.wait()
    lock = RedisGroupLock(redis_client, name, ttl=1.5)
    assert not lock.acquire()
    time.sleep(1.6)
    assert lock.acquire()
    lock.release()
