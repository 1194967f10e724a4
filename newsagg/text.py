"""Characters that are never text: what every stage strips or refuses (extractor, item pipelines, registry)."""

from __future__ import annotations

import re

# C0 controls except tab, newline and carriage return; DEL; the noncharacters U+FFFE and U+FFFF. Scraped pages do
# carry them (bad decoding upstream); they break libxml2 and make XML exports (OPML, Atom) invalid.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def strip_control(text: str) -> str:
    """`text` without CONTROL_CHARS."""
    return CONTROL_CHARS.sub("", text)
