"""Settings: defaults, newsagg.toml, NEWSAGG_* env vars (nested with __), precedence."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from newsagg.config import Settings


def test_defaults_put_sqlite_in_data_dir(clean_env):
    s = Settings()
    assert s.data_dir == Path("data")
    assert s.database_url == f"sqlite:///{(clean_env / 'data' / 'newsagg.db').resolve()}"
    assert s.crawl.sources_file.name == "publishers.toml" and s.crawl.sources_file.exists()
    assert s.embedding.model == "all-MiniLM-L6-v2"


def test_toml_file_then_env_override(clean_env, monkeypatch):
    (clean_env / "newsagg.toml").write_text(
        'data_dir = "/srv/news"\n[crawl]\nmax_age_days = 3\ndownload_delay = 2.5\n', encoding="utf-8"
    )
    s = Settings()
    assert s.data_dir == Path("/srv/news") and s.crawl.max_age_days == 3 and s.crawl.download_delay == 2.5
    monkeypatch.setenv("NEWSAGG_CRAWL__MAX_AGE_DAYS", "9")
    monkeypatch.setenv("NEWSAGG_DATABASE_URL", "postgresql://u@h/db")
    s = Settings()
    assert s.crawl.max_age_days == 9 and s.crawl.download_delay == 2.5
    assert s.database_url == "postgresql://u@h/db"


def test_config_path_from_env(clean_env, monkeypatch):
    other = clean_env / "elsewhere.toml"
    other.write_text("[crawl]\nconcurrent_per_domain = 1\n", encoding="utf-8")
    monkeypatch.setenv("NEWSAGG_CONFIG", str(other))
    assert Settings().crawl.concurrent_per_domain == 1


def test_invalid_values_are_clear_errors(clean_env, monkeypatch):
    monkeypatch.setenv("NEWSAGG_CRAWL__CONCURRENT_PER_DOMAIN", "0")
    with pytest.raises(ValidationError, match="concurrent_per_domain"):
        Settings()
