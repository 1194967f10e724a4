"""The top floor: the `newsagg` command and what only it runs (scheduler, supervisor, child processes, the
source commands, indexing beside a crawl). It imports crawler, recommender and dashboard; nothing below imports it
(import-linter contracts in pyproject.toml, tests/test_layers.py)."""
