"""Exact and near-duplicate detection: a normalised content hash, and MinHash-LSH over word shingles.

datasketch does the hashing and the LSH; the index is rebuilt from the signatures stored with every article, so
near-duplicates are found across crawls, not only within one.
"""

from __future__ import annotations

import hashlib
import re
import threading

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

NUM_PERM = 128
SCHEME = MinHash(num_perm=1).scheme
SHINGLE = 5
_WORD = re.compile(r"\w+", re.UNICODE)


def normalised_words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def content_hash(text: str) -> str:
    """sha256 of the body's words: whitespace, punctuation and case changes do not make a new article."""
    return hashlib.sha256(" ".join(normalised_words(text)).encode("utf-8")).hexdigest()


def minhash_of(text: str) -> LeanMinHash:
    words = normalised_words(text)
    shingles = {" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    m = MinHash(num_perm=NUM_PERM)
    m.update_batch([s.encode("utf-8") for s in shingles])
    return LeanMinHash(m)


def signature_bytes(m: LeanMinHash) -> bytes:
    return np.asarray(m.hashvalues, dtype=np.uint32).tobytes()


def signature_from_bytes(raw: bytes) -> LeanMinHash:
    # The default MinHash seed (1) and scheme, as minhash_of() makes them.
    return LeanMinHash(seed=1, hashvalues=np.frombuffer(raw, dtype=np.uint32), scheme=SCHEME)


class NearDuplicateIndex:
    """MinHash LSH of article bodies; `match()` returns the near-duplicate group an article belongs to."""

    def __init__(self, threshold: float = 0.8):
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._groups: dict[int, int] = {}
        self._signatures: dict[int, LeanMinHash] = {}
        self._lock = threading.Lock()

    def add(self, article_id: int, group: int, m: LeanMinHash) -> None:
        with self._lock:
            if article_id in self._groups:
                return
            self._lsh.insert(article_id, m)
            self._groups[article_id] = group
            self._signatures[article_id] = m

    def match(self, m: LeanMinHash) -> tuple[int, float] | None:
        """(group id, estimated Jaccard) of the most similar indexed article above the threshold, if any."""
        with self._lock:
            best = None
            for article_id in self._lsh.query(m):
                similarity = m.jaccard(self._signatures[article_id])
                if similarity >= self.threshold and (best is None or similarity > best[1]):
                    best = (self._groups[article_id], similarity)
            return best

    def __len__(self) -> int:
        return len(self._groups)
