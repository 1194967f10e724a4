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
from sklearn.preprocessing import normalize

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
        self.rows: list[sp.csr_matrix] = []
        self._tf: sp.csr_matrix | None = None
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

    def append_tf(self, m: sp.csr_matrix, counted: np.ndarray | None = None) -> None:
        """Append rows of term frequencies; rows not `counted` (removed articles) are kept empty."""
        m = m.tocsr().astype(np.float32)
        if counted is not None and not np.all(counted):
            m = (sp.diags(np.asarray(counted, dtype=np.float32)) @ m).tocsr()
            m.eliminate_zeros()
        with self._lock:
            self.rows.append(m)
            self.df += np.bincount(m.indices, minlength=self.n_features)
            self.n_docs += m.shape[0] if counted is None else int(np.count_nonzero(counted))
            self._tf = None
            self._idf = None

    def forget(self, rows: Sequence[int]) -> None:
        """Exclude rows from document frequencies (the rows stay, zeroed, so positions never shift)."""
        tf = self.tf_matrix().tolil()
        for r in rows:
            cols = tf.rows[r]
            self.df[cols] -= 1
            tf.data[r] = [0.0] * len(cols)
            self.n_docs -= 1
        with self._lock:
            self.rows = [tf.tocsr()]
            self._tf = None
            self._idf = None

    def idf(self) -> np.ndarray:
        """scikit-learn's smoothed idf, ln((1 + n) / (1 + df)) + 1; kept until the next change (it is 2**20 logs,
        more than the rest of a query's weighting)."""
        idf = self._idf
        if idf is None:
            idf = self._idf = (np.log((1.0 + self.n_docs) / (1.0 + self.df)) + 1.0).astype(np.float32)
        return idf

    def tf_matrix(self) -> sp.csr_matrix:
        with self._lock:
            if self._tf is None:
                self._tf = sp.vstack(self.rows, format="csr") if self.rows else sp.csr_matrix((0, self.n_features))
                self.rows = [self._tf]
            return self._tf

    def matrix(self) -> sp.csr_matrix:
        """All rows, weighted and normalised (row i · row j = TF-IDF cosine). Not kept: only tf rows are held, and
        the ranking weighs the few rows it scores (`weigh_rows`); the candidates come from the word index."""
        return self.weigh_rows(self.tf_matrix())

    def weigh(self, tf: sp.csr_matrix) -> sp.csr_matrix:
        return normalize(tf @ sp.diags(self.idf()), copy=False).tocsr()

    def weigh_rows(self, tf: sp.csr_matrix) -> sp.csr_matrix:
        """A few tf rows weighted and normalised with the current IDF (what `matrix()` holds for them)."""
        weighted = tf.tocsr().astype(np.float32, copy=True)
        weighted.data *= self.idf()[weighted.indices]
        # by hand: sklearn's normalize() validates its input at a cost larger than the few rows scored here
        per_row = np.diff(weighted.indptr)
        rows = np.repeat(np.arange(weighted.shape[0]), per_row)
        norms = np.sqrt(np.bincount(rows, weights=weighted.data.astype(np.float64) ** 2, minlength=weighted.shape[0]))
        norms[norms == 0] = 1.0
        weighted.data /= np.repeat(norms, per_row).astype(np.float32)
        return weighted

    def term_weights(self, terms: Sequence[str], weighted_row: sp.csr_matrix) -> list[tuple[str, float]]:
        """(term, its weight in a weighted row), heaviest first; a term whose hash another term shares gets the
        shared weight (rare at 2**20 features, and only a candidate query)."""
        terms = list(dict.fromkeys(terms))
        if not terms:
            return []
        ids = self._term_hasher.transform([[t] for t in terms]).tocsr().indices
        row = weighted_row.tocsr()
        weight_of = dict(zip(row.indices.tolist(), row.data.tolist()))
        pairs = [(t, weight_of.get(int(i), 0.0)) for t, i in zip(terms, ids)]
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
