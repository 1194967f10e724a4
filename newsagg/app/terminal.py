"""What every `newsagg` command prints through, and how it reads comma-separated names."""

from __future__ import annotations

from typing import Optional

from rich.console import Console

console = Console()


def split_names(names: Optional[str]) -> list[str] | None:
    """"a, b,,c" → ["a", "b", "c"]; None or "" → None (meaning: all)."""
    return [n.strip() for n in names.split(",") if n.strip()] if names else None
