"""The import layers of pyproject.toml's [tool.importlinter] contracts, checked with import-linter (`lint-imports`):
the ground floor imports nothing above it, crawler and recommender neither each other nor what sits above them,
and no sibling modules import each other in a circle."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("newsagg", "crawler", "recommender", "dashboard")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` over the packages under `root`, with the contracts of `root`/pyproject.toml."""
    runner = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run([sys.executable, "-c", runner, "--no-cache"], cwd=root, capture_output=True, text=True,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, timeout=120)


def test_every_import_contract_is_kept():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def _copy_of_the_code(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "content"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_a_ground_floor_module_importing_the_crawler_breaks_a_contract(tmp_path):
    root = _copy_of_the_code(tmp_path)
    with open(root / "newsagg" / "store.py", "a", encoding="utf-8") as fh:
        fh.write("\nimport crawler.registry  # noqa: E402\n")
    done = lint_imports(root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "newsagg.store is not allowed to import crawler" in done.stdout


def test_an_import_circle_between_entry_points_breaks_a_contract(tmp_path):
    root = _copy_of_the_code(tmp_path)
    with open(root / "newsagg" / "app" / "schedule.py", "a", encoding="utf-8") as fh:
        fh.write("\nfrom newsagg.app import cli  # noqa: E402\n")  # cli imports schedule already
    done = lint_imports(root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "No cycles are allowed in newsagg.app" in done.stdout


def test_a_newsagg_module_on_no_floor_breaks_a_contract(tmp_path):
    root = _copy_of_the_code(tmp_path)
    (root / "newsagg" / "unplaced.py").write_text('"""A module nobody put on a floor."""\n', encoding="utf-8")
    done = lint_imports(root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "newsagg.unplaced" in done.stdout
