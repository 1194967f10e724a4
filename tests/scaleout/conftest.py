"""Scale-out fixtures: the local Redis (NEWSAGG_TEST_REDIS_URL) with a key prefix per test, removed afterwards."""

from __future__ import annotations

import os
import uuid

import pytest

REDIS_URL = os.environ.get("NEWSAGG_TEST_REDIS_URL")


@pytest.fixture
def redis_url():
    if not REDIS_URL:
        pytest.skip("Redis not configured: set NEWSAGG_TEST_REDIS_URL to run the scale-out tests")
    return REDIS_URL


@pytest.fixture
def redis_client(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"NEWSAGG_TEST_REDIS_URL is set but Redis does not answer: {exc}")
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client):
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    name = f"newsagg-test-{uuid.uuid4().hex[:10]}"
    yield name
    keys = list(redis_client.scan_iter(f"{name}:*"))
    if keys:
        redis_client.delete(*keys)
