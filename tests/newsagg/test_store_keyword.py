"""Store.list_articles: a keyword's % and _ are characters, not LIKE wildcards; `ids` restricts the listing."""

from __future__ import annotations

import hashlib

from newsagg.models import Article
from newsagg.store import ArticleFilter


def test_keyword_wildcards_are_literal_and_ids_restrict(store):
    src = store.ensure_source("x")
    ids = {}
    for title in ["100% electric", "100 volts electric", "a_b test", "ab test", r"back\slash"]:
        ids[title] = store.add_article(Article(
            url=f"https://x.example/{hashlib.md5(title.encode()).hexdigest()}", source_id=src, title=title,
            body="body", content_hash=hashlib.sha256(title.encode()).hexdigest()))

    def titles(**kw) -> set[str]:
        return {a.title for a in store.list_articles(ArticleFilter(**kw))}

    assert titles(q="100%") == titles(q="%") == {"100% electric"}
    assert titles(q="a_b") == titles(q="_") == {"a_b test"}
    assert titles(q="\\") == {r"back\slash"}
    assert titles(q="electric") == {"100% electric", "100 volts electric"}
    assert titles(q="ignored", ids=[ids["ab test"], ids["a_b test"]]) == {"ab test", "a_b test"}
