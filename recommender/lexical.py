"""Lexical signals, incrementally: hashed TF-IDF over words (title + body) and over names/numbers (entities).

Hashing keeps the vocabulary fixed, so new articles only add rows and bump document frequencies; the IDF
weighting is applied to the rows being scored, when they are scored (only tf rows are held). Sublinear TF and English stop
words are what made plain TF-IDF the strongest single signal on the story dev set.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, HashingVectorizer

from recommender.row_blocks import RowBlocks

# Capitalised word runs (names, places, products; "Model S") and numbers (dates, counts, models). Sentence-initial
# words are kept: a capitalised stop word ("The", "After") is dropped by _STOP_ENTITIES instead.
_ENTITY_RE = re.compile(
    r"\b([A-Z][\w\-]*[A-Za-z](?:\s+(?:of\s+|de\s+)?[A-Z][\w\-]*)*)|\b(\d[\d,.:]*\d|\d)\b"
)
_STOP_ENTITIES = {w.capitalize() for w in ENGLISH_STOP_WORDS} | {
    "I", "Mr", "Mrs", "Ms", "Dr", "But", "And", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
    "Sunday", "Said", "Says", "According",
}


def extract_entities(text: str) -> list[str]:
    """Proper-noun runs and numbers, as display strings (e.g. 'Tara Reid', '2013')."""
    out = []
    for name, number in _ENTITY_RE.findall(text or ""):
        if name:
            words = [w for w in name.split() if w not in _STOP_ENTITIES]
            if words:
                out.append(" ".join(words))
        elif number:
            out.append(number.rstrip(".,"))
    return out


def entity_tokens(title: str, body: str, tags: Sequence[str]) -> list[str]:
    """Tokens of the entity signal: each entity as a whole and its single words, plus tags."""
    tokens = []
    for ent in extract_entities(f"{title}.\n{body}"):
        key = ent.lower()
        tokens.append("e:" + key.replace(" ", "_"))
        if " " in key:
            tokens.extend("w:" + w for w in key.split())  # 'Reid' alone still matches 'Tara Reid'
    tokens.extend("t:" + t.lower() for t in tags)
    return tokens


class HashedTfidf:
    """Rows of sublinear term frequencies; IDF-weighted, L2-normalised views on demand."""

    def __init__(self, n_features: int, analyzer):
        self.vectorizer = HashingVectorizer(
            n_features=n_features, alternate_sign=False, norm=None, analyzer=analyzer, dtype=np.float32
        )
        self.n_features = n_features
        self.analyzer = analyzer
        self._term_hasher = HashingVectorizer(  # the same hashing, one term per row: term → feature id
            n_features=n_features, alternate_sign=False, norm=None, analyzer=identity_analyzer, dtype=np.float32
        )
        self.rows = RowBlocks(sp.csr_matrix((0, n_features), dtype=np.float32))
        self._counted = np.zeros(0, dtype=bool)  # rows in the document frequencies (removed ones are not)
        self.df = np.zeros(n_features, dtype=np.int64)
        self.n_docs = 0
        self._idf: np.ndarray | None = None
        self._lock = threading.Lock()

    def tf(self, docs: list) -> sp.csr_matrix:
        m = self.vectorizer.transform(docs).tocsr()
        m.data = 1.0 + np.log(m.data)  # sublinear tf
        return m

    def append(self, docs: list) -> None:
        self.append_tf(self.tf(docs))

    def append_tf(self, m: sp.csr_matrix, counted: np.ndarray | None = None, df: np.ndarray | None = None,
                  mapped: bool = False) -> None:
        """Append rows of term frequencies; rows not `counted` (removed articles) are left out of the document
        frequencies and read as empty. `df`: the rows' document frequencies, when saved with them (a mapped
        segment is then not read through at start)."""
        if not mapped:
            m = m.tocsr().astype(np.float32)
        n = m.shape[0]
        counted = np.ones(n, dtype=bool) if counted is None else np.asarray(counted, dtype=bool)
        df = np.bincount(m.indices, minlength=self.n_features) if df is None else np.asarray(df, dtype=np.int64)
        dropped = np.nonzero(~counted)[0]
        if len(dropped):
            df = df - np.bincount(m[dropped].indices, minlength=self.n_features)
        with self._lock:
            self.rows.append(m, mapped=mapped)
            self._counted = np.concatenate([self._counted, counted])
            self.df += df
            self.n_docs += int(np.count_nonzero(counted))
            self._idf = None

    def forget(self, rows: Sequence[int]) -> None:
        """Exclude rows from document frequencies (the rows stay, read as empty, so positions never shift)."""
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        rows = rows[self._counted[rows]]
        if len(rows) == 0:
            return
        cols = self.rows.take(rows).indices
        with self._lock:
            self.df -= np.bincount(cols, minlength=self.n_features)
            counted = self._counted.copy()
            counted[rows] = False
            self._counted = counted
            self.n_docs -= len(rows)
            self._idf = None

    def adopt(self, parts: list[sp.csr_matrix]) -> None:
        """Serve the rows from these (mapped) blocks from now on: the same rows, as saved."""
        self.rows.replace(parts)

    def tf_rows(self, rows) -> sp.csr_matrix:
        """Term-frequency rows (removed articles' rows empty), gathered from whichever blocks hold them."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        m = self.rows.take(rows)
        if len(rows) and not self._counted[rows].all():
            keep = self._counted[rows].astype(np.float32)
            m = (sp.diags(keep) @ m).tocsr()
            m.eliminate_zeros()
        return m.tocsr()

    def counted_df(self, m: sp.csr_matrix) -> np.ndarray:
        """Document frequencies of rows as they are saved (what `append_tf(..., df=)` takes back)."""
        return np.bincount(m.indices, minlength=self.n_features).astype(np.int32)

    def idf(self) -> np.ndarray:
        """scikit-learn's smoothed idf, ln((1 + n) / (1 + df)) + 1; kept until the next change (it is 2**20 logs,
        more than the rest of a query's weighting)."""
        idf = self._idf
        if idf is None:
            idf = self._idf = (np.log((1.0 + self.n_docs) / (1.0 + self.df)) + 1.0).astype(np.float32)
        return idf

    def tf_matrix(self) -> sp.csr_matrix:
        """All rows as one matrix: a copy, for tests and the full-scan baseline, never kept."""
        return self.tf_rows(np.arange(len(self.rows)))

    def matrix(self) -> sp.csr_matrix:
        """All rows, weighted and normalised (row i · row j = TF-IDF cosine). Not kept: only tf rows are held, and
        the ranking weighs the few rows it scores (`weigh_rows`); the candidates come from the word index."""
        return self.weigh_rows(self.tf_matrix())

    def weigh_rows(self, tf: sp.csr_matrix) -> sp.csr_matrix:
        """A few tf rows weighted and normalised with the current IDF (what `matrix()` holds for them); also a free
        text's row (a diagonal IDF matrix over all 2**20 features would cost ~10 ms a query)."""
        weighted = tf.tocsr().astype(np.float32, copy=True)
        weighted.data *= self.idf()[weighted.indices]
        # by hand: sklearn's normalize() validates its input at a cost larger than the few rows scored here
        per_row = np.diff(weighted.indptr)
        rows = np.repeat(np.arange(weighted.shape[0]), per_row)
        norms = np.sqrt(np.bincount(rows, weights=weighted.data.astype(np.float64) ** 2, minlength=weighted.shape[0]))
        norms[norms == 0] = 1.0
        weighted.data /= np.repeat(norms, per_row).astype(np.float32)
        return weighted

    def term_ids(self, terms: Sequence[str]) -> dict[str, int]:
        """term → its feature id, hashed in one call (per-term calls cost more than the hashing)."""
        terms = list(dict.fromkeys(terms))
        if not terms:
            return {}
        ids = self._term_hasher.transform([[t] for t in terms]).tocsr().indices  # one entry per row
        return dict(zip(terms, ids.tolist()))

    def term_weights(self, terms: Sequence[str], weighted_row: sp.csr_matrix,
                     ids: dict[str, int] | None = None) -> list[tuple[str, float]]:
        """(term, its weight in a weighted row), heaviest first; a term whose hash another term shares gets the
        shared weight (rare at 2**20 features, and only a candidate query). `ids`: the terms' feature ids, when
        already hashed (`term_ids`)."""
        terms = list(dict.fromkeys(terms))
        if not terms:
            return []
        ids = self.term_ids(terms) if ids is None else ids
        row = weighted_row.tocsr()
        weight_of = dict(zip(row.indices.tolist(), row.data.tolist()))
        pairs = [(t, weight_of.get(ids[t], 0.0)) for t in terms]
        return sorted((p for p in pairs if p[1] > 0), key=lambda p: -p[1])


def row_cosines(a: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    """Dense (len(a), len(b)) dot products of two few-row sparse matrices over a huge hashed feature space.

    Columns are first renumbered to the ones either side uses: a plain `a @ b.T` converts b.T over all 2**20
    columns, which cost more than everything else in a related-articles query.
    """
    a, b = a.tocsr(), b.tocsr()
    if a.nnz == 0 or b.nnz == 0:
        return np.zeros((a.shape[0], b.shape[0]), dtype=np.float32)
    cols, inverse = np.unique(np.concatenate([a.indices[: a.nnz], b.indices[: b.nnz]]), return_inverse=True)
    a2 = sp.csr_matrix((a.data[: a.nnz], inverse[: a.nnz], a.indptr), shape=(a.shape[0], len(cols)))
    b2 = sp.csr_matrix((b.data[: b.nnz], inverse[a.nnz :], b.indptr), shape=(b.shape[0], len(cols)))
    return (a2 @ b2.T).toarray()


def word_analyzer():
    """Lower-cased word tokens minus English stop words (what TfidfVectorizer does by default + stop words)."""
    token = re.compile(r"(?u)\b\w\w+\b")
    stop = ENGLISH_STOP_WORDS

    def analyze(doc: str) -> list[str]:
        return [t for t in token.findall(doc.lower()) if t not in stop]

    return analyze


def identity_analyzer(tokens: list[str]) -> list[str]:
    return tokens
