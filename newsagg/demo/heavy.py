"""A store of many articles of realistic size (a ~6 KB body, ~100 KB of raw HTML kept compressed), built fast
with bulk INSERTs: what memory tests and benchmarks/abuse.py load an API with. Made-up words, never real news."""

from __future__ import annotations

import random
import zlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert

from newsagg.models import Article
from newsagg.store import Store

TAGS = ("ev", "battery", "charging", "autonomy", "software", "chips", "policy", "xiaomi", "byd", "tesla")
_SYLLABLES = "ka vo ri tes lo mi zen dra qu pol nex tri bo sa fer lu gan xi mor pe".split()


def _text(rng: random.Random, vocab: list[str], words: int) -> str:
    return " ".join(rng.choices(vocab, k=words))


def fill_heavy_store(store: Store, n: int, *, seed: int = 7, pages: int = 64) -> int:
    """Add `n` articles (ids after the existing ones) from one source; returns how many were added."""
    rng = random.Random(seed)
    vocab = ["".join(rng.choices(_SYLLABLES, k=3)) for _ in range(5000)]
    bodies = [_text(rng, vocab, 900) for _ in range(pages)]
    html = [zlib.compress(f"<html><head><script>{_text(rng, vocab, 6000)}</script></head><body><nav>"
                          f"{_text(rng, vocab, 4000)}</nav><article>{b}</article></body></html>".encode(), 6)
            for b in bodies]
    source_id = store.ensure_source("heavy", "https://heavy.example/")
    day0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    for start in range(0, n, 500):
        rows = []
        for i in range(start, min(n, start + 500)):
            page = i % pages
            rows.append({
                "url": f"https://heavy.example/{seed}/{i}", "source_id": source_id, "title": _text(rng, vocab, 10),
                "authors": ["A. Writer"], "published_at": day0 + timedelta(minutes=i), "fetched_at": day0,
                "summary": _text(rng, vocab, 40), "body": bodies[page], "tags": rng.sample(TAGS, 3),
                "relevance": 0.5, "paywalled": False, "content_hash": f"{seed}-{i}", "raw_html_z": html[page],
                "minhash": rng.randbytes(512),
            })
        with store.engine.begin() as conn:
            conn.execute(insert(Article.__table__), rows)
    return n


__all__ = ["TAGS", "fill_heavy_store"]
