"""Content hashes, MinHash near-duplicates, and tech/auto relevance."""

from crawler.dedupe import NearDuplicateIndex, content_hash, minhash_of, signature_bytes, signature_from_bytes
from crawler.relevance import default_scorer
from newsagg.demo.content import load_articles


def test_content_hash_ignores_case_spacing_and_punctuation():
    assert content_hash("Xiaomi  SU7, launched!") == content_hash("xiaomi su7 launched")
    assert content_hash("Xiaomi SU7 launched") != content_hash("Xiaomi YU7 launched")


def test_near_duplicates_found_and_distinct_stories_not():
    articles = [a for a in load_articles() if a.on_topic]
    original = " ".join(articles[0].body)
    copy = "Republished with permission from VoltWire. " + original + " Follow us for more."
    index = NearDuplicateIndex(threshold=0.8)
    for i, a in enumerate(articles[:40]):
        index.add(i + 1, i + 1, minhash_of(" ".join(a.body)))
    assert index.match(minhash_of(copy))[0] == 1
    # Different outlets on the same event are related, not copies.
    same_event = next(a for a in articles[1:] if a.event_id == articles[0].event_id)
    match = index.match(minhash_of(" ".join(same_event.body)))
    assert match is None or match[0] == articles.index(same_event) + 1


def test_signature_round_trip():
    m = minhash_of("battery electric vehicle charging network " * 5)
    assert m.jaccard(signature_from_bytes(signature_bytes(m))) == 1.0


def test_relevance_separates_demo_on_and_off_topic():
    scorer = default_scorer()
    for a in load_articles():
        r = scorer.score(a.title, " ".join(a.body))
        if a.on_topic:
            assert r.score >= 0.5 and r.tags, a.title
        else:
            assert r.score < 0.35, a.title


def test_relevance_tags_companies_and_themes():
    r = default_scorer().score("Xiaomi SU7 undercuts Tesla", "The electric car uses a new battery and fast charging.")
    assert r.tags[:2] == ["xiaomi", "tesla"]
    assert {"ev", "batteries", "charging"} <= set(r.tags)
    # Short acronyms are case-sensitive: "ev" in "every" or "level" must not count.
    assert "ev" not in default_scorer().score("Every level", "Clever lever every evening").tags
