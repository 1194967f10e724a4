"""The API's related-list cache is bounded in bytes (lists and their encoded variants), not in entries."""

from __future__ import annotations

import asyncio

from recommender.api.related_cache import RelatedList, RelatedLists
from recommender.api.schemas import RelatedArticle


def make_list(article_id: int, title_chars: int) -> RelatedList:
    items = tuple(RelatedArticle(article_id=article_id * 100 + i, url=f"https://a.example/{article_id}/{i}",
                                 title="t" * title_chars, source="a", published=None, score=0.5, reason="r")
                  for i in range(20))
    return RelatedList(article_id, 1, "m", items, (), 20)


def test_cache_holds_at_most_its_byte_budget_whatever_the_size_of_lists():
    budget = 400_000
    cache = RelatedLists(lambda aid, limit: make_list(aid, 2_000 if aid % 2 else 50), lambda: 1, budget)

    async def fill():
        for aid in range(1, 200):
            entry = await cache.get(aid, 20)
            for limit in range(1, 8):  # more variants than are kept per list
                entry.render(("json", limit, None), lambda: b"x" * 5_000)
            assert cache.nbytes <= budget

    asyncio.run(fill())
    assert 0 < len(cache) < 199
    assert cache.nbytes == sum(e.nbytes for e in cache._entries.values())  # the books balance
    big, small = make_list(1, 2_000).nbytes, make_list(2, 50).nbytes
    assert big > 20 * 2_000 > small  # the titles' bytes are counted, not a flat cost per list
    cache.close()


def test_zero_budget_caches_nothing():
    cache = RelatedLists(lambda aid, limit: make_list(aid, 10), lambda: 1, 0)
    asyncio.run(cache.get(1, 5))
    assert len(cache) == 0 and cache.nbytes == 0


def test_a_list_answers_shorter_limits_and_a_longer_ask_presents_it_again():
    asked = []

    def compute(aid: int, limit: int) -> RelatedList:
        asked.append(limit)
        entry = make_list(aid, 10)
        n = 3 if aid == 2 else limit  # article 2 has only three related articles
        return RelatedList(aid, 1, "m", entry.items[:n], (), limit)

    cache = RelatedLists(compute, lambda: 1, 1_000_000)

    async def walk():
        assert len((await cache.get(1, 5)).items) == 5
        assert (await cache.get(1, 3)).limit == 5  # a prefix of the cached one: no recomputation
        assert len((await cache.get(1, 10)).items) == 10  # longer: presented again, and kept instead
        assert (await cache.get(1, 5)).limit == 10
        await cache.get(2, 5)
        assert len((await cache.get(2, 20)).items) == 3  # all it has: fewer than asked covers any limit

    asyncio.run(walk())
    assert asked == [5, 10, 5]
    cache.close()
