"""Schemathesis over the API's own OpenAPI schema: generated requests, valid and invalid, never get a 5xx, and
the answers match the documented status codes, media types and schemas.

The schema is loaded eagerly (the OpenAPI document does not depend on data) and each case is sent to an app
built over the fixture store: schemathesis' lazy `from_fixture` loader does not work with pytest 9 (it writes
the private `Node._nodeid`, which pytest 9 no longer has).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from newsagg.config import Settings
from recommender.api import create_app

pytestmark = pytest.mark.slow

schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@pytest.fixture
def fuzzed_app(service, api_settings):
    """The app over the fixture store; schemathesis runs its lifespan (and ends it after each operation)."""
    return create_app(api_settings, service, wait_ready=True)


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_no_server_error(case, fuzzed_app):
    case.call_and_validate(app=fuzzed_app)
