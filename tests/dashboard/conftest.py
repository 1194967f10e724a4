"""Dashboard fixtures: the small indexed store of dashboard_world, and the app pointed at it."""

from __future__ import annotations

import pytest
from tests.dashboard.dashboard_world import DashboardStore, fill_store, index_store, point_app_at

from newsagg.config import get_settings
from newsagg.store import Store


@pytest.fixture(scope="session")
def dashboard_store(tmp_path_factory) -> DashboardStore:
    data_dir = tmp_path_factory.mktemp("dashboard-store")
    url = f"sqlite:///{data_dir / 'store.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEWSAGG_CONFIG", "/nonexistent/newsagg.toml")  # no stray newsagg.toml in the cwd
        store = Store(url)
        ids = fill_store(store)
        store.close()
        index_store(url, data_dir)
    return DashboardStore(url, data_dir, ids)


@pytest.fixture
def app_env(monkeypatch, dashboard_store) -> DashboardStore:
    point_app_at(monkeypatch, dashboard_store.url, dashboard_store.data_dir)
    yield dashboard_store
    get_settings.cache_clear()
