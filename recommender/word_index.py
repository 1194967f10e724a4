"""The inverted index of article words (tantivy), for lexical candidates and keyword search.

Why tantivy (measured on one synthetic archive, 200 uniformly random queries of an article's 24 highest-weight
terms, 50 candidates; 2 shared cores; see the README's speed section):
    20k articles:  full TF-IDF scan p50 1.70 ms · scipy over the 24 terms' postings 0.41 ms · tantivy 1.04 ms
    100k articles: full TF-IDF scan p50 9.08 ms · scipy over the 24 terms' postings 1.47 ms · tantivy 1.33 ms
The scan and the postings walk grow linearly with N (x5.3 and x3.6 for x5 articles); tantivy's block-max WAND
top-k pruning barely grows (x1.3, mostly fixed Python overhead), works the same on SQLite and PostgreSQL
deployments (FTS5 / tsvector would be two implementations), and is an mmapped directory that lives beside the
snapshots, so API replicas share it instead of each holding a transposed word matrix in RAM.

Words are tokenised by our own analyzer (recommender/lexical.py, the one the TF-IDF ranking uses) and handed to
tantivy pre-split on whitespace; queries are built from term objects, never parsed, so no user input is syntax.
Each document also stores its article's distinctive terms, which is what a stored article queries with.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import tantivy

log = logging.getLogger(__name__)
WRITER_HEAP = 128_000_000  # bytes tantivy's writer buffers before it flushes a segment


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("id", stored=False, indexed=True, fast=True)
    sb.add_text_field("words", stored=False, tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("key_terms", stored=True, tokenizer_name="raw", index_option="basic")
    return sb.build()


class WordIndex:
    """article id → words, on disk; one writer at a time (the index update), any number of readers."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        self._lock = threading.Lock()
        self._searcher = self.index.searcher()

    def reload(self) -> None:
        """See what another process (or this one's writer) committed."""
        self.index.reload()
        with self._lock:
            self._searcher = self.index.searcher()

    def __len__(self) -> int:
        return self._searcher.num_docs

    # ---- writing -------------------------------------------------------------------------------------
    def replace(self, docs: Sequence[tuple[int, list[str], list[str]]], remove: Sequence[int] = ()) -> None:
        """Add (article id, tokens, key terms) docs — replacing any earlier doc of those ids — and drop `remove`,
        in one commit (atomic: a reader sees all of it or none)."""
        if not docs and not remove:
            return
        writer = self.index.writer(WRITER_HEAP, 1)
        try:
            for aid in [*remove, *(d[0] for d in docs)]:
                writer.delete_documents_by_term("id", int(aid))  # re-adding after a crash must not duplicate
            for aid, tokens, key_terms in docs:
                writer.add_document(tantivy.Document(id=int(aid), words=" ".join(tokens), key_terms=key_terms))
            writer.commit()
            writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        self.reload()

    def clear(self) -> None:
        writer = self.index.writer(WRITER_HEAP, 1)
        writer.delete_all_documents()
        writer.commit()
        writer.wait_merging_threads()
        self.reload()

    # ---- reading -------------------------------------------------------------------------------------
    def search(self, weighted_terms: Sequence[tuple[str, float]], k: int) -> list[tuple[int, float]]:
        """(article id, BM25 score) of the k best matches of a weighted OR of terms, best first."""
        terms = [(t, w) for t, w in weighted_terms if w > 0]
        if not terms or k <= 0:
            return []
        query = tantivy.Query.boolean_query([
            (tantivy.Occur.Should,
             tantivy.Query.boost_query(tantivy.Query.term_query(self.schema, "words", t), float(w)))
            for t, w in terms
        ])
        searcher = self._searcher
        hits = searcher.search(query, k, count=False).hits
        ids = searcher.fast_field_values("id", [addr for _, addr in hits])
        return [(int(i), float(score)) for (score, _), i in zip(hits, ids) if i is not None]

    def key_terms(self, article_id: int) -> list[str]:
        """The distinctive terms stored for an article ([] when it is not in the index)."""
        searcher = self._searcher
        hits = searcher.search(tantivy.Query.term_query(self.schema, "id", int(article_id)), 1, count=False).hits
        if not hits:
            return []
        return list(searcher.doc(hits[0][1]).to_dict().get("key_terms", []))

    def ids(self) -> set[int]:
        """Every article id in the index (start-up checks; O(N))."""
        searcher = self._searcher
        n = searcher.num_docs
        if n == 0:
            return set()
        hits = searcher.search(tantivy.Query.all_query(), n, count=False).hits
        return {int(i) for i in searcher.fast_field_values("id", [a for _, a in hits]) if i is not None}
