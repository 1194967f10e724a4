"""newsagg: a tech & automotive news aggregator (shared ground floor: config, store, CLI)."""

__version__ = "0.1.0"
