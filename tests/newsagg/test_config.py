"""Settings: defaults, newsagg.toml, NEWSAGG_* env vars (nested with __), precedence."""

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from newsagg.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]


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


def test_scaleout_knobs_have_their_own_section_and_old_names_still_work(clean_env, monkeypatch, caplog):
    (clean_env / "newsagg.toml").write_text("[scaleout]\nrun_ttl = 60\n[schedule]\nlease_seconds = 12\n",
                                            encoding="utf-8")
    with caplog.at_level("WARNING", logger="newsagg.config"):
        s = Settings()
    assert (s.scaleout.run_ttl, s.scaleout.lease_seconds) == (60, 12)
    assert "schedule.lease_seconds moved to scaleout.lease_seconds" in caplog.text
    monkeypatch.setenv("NEWSAGG_SCALEOUT__LEASE_SECONDS", "7")  # the new name wins over the old one
    monkeypatch.setenv("NEWSAGG_SCHEDULE__ROBOTS_HOLD", "1.5")
    s = Settings()
    assert (s.scaleout.lease_seconds, s.scaleout.robots_hold) == (7, 1.5)


def test_the_crawler_reads_the_one_settings_object(clean_env, monkeypatch):
    """Scrapy's settings are derived from Settings, and components read Settings itself (no defaults of their own)."""
    import json
    import subprocess
    import sys

    from scrapy.utils.test import get_crawler

    from crawler.middlewares import BackoffRetryMiddleware, PolitenessMiddleware, PrivateAddressMiddleware

    monkeypatch.setenv("NEWSAGG_CRAWL__DOWNLOAD_TIMEOUT", "11")
    monkeypatch.setenv("NEWSAGG_CRAWL__RETRY_BACKOFF", "0.25")
    probe = ("import json, crawler.settings as s; "
             "print(json.dumps([s.DOWNLOAD_TIMEOUT, s.NEWSAGG_SETTINGS.crawl.retry_backoff]))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=clean_env, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert json.loads(out.stdout) == [11, 0.25]

    cfg = Settings(crawl={"retry_backoff": 0.25, "max_crawl_delay": 4, "allow_private_hosts": True})
    scrapy_crawler = get_crawler(settings_dict={"NEWSAGG_SETTINGS": cfg})
    assert BackoffRetryMiddleware.from_crawler(scrapy_crawler).backoff_base == 0.25
    assert PolitenessMiddleware.from_crawler(scrapy_crawler).max_delay == 4
    assert PrivateAddressMiddleware.from_crawler(scrapy_crawler).allow is True
