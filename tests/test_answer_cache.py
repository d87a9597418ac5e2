"""The answer cache keeps at most a budget of bytes, least recently used answers dropped first, and its middleware
serves a kept answer before routing, keyed on the parameters the route reads."""

import asyncio
from types import SimpleNamespace

from api.answer_cache import AnswerCache, CachedAnswers, request_key

HASH = "0x" + "cd" * 32


def key(n: int) -> tuple:
    return (f"/api/proposals/{n}", (), "0x" + "ab" * 32)


def test_the_answer_cache_holds_at_most_its_budget_of_bytes():
    cache = AnswerCache(max_bytes=10_000)
    for n in range(100):
        cache.answer(key(n), lambda: {"votes": "x" * 500})
    assert 9_000 < cache.bytes <= 10_000
    assert cache.get(key(99)) is not None and cache.get(key(0)) is None


def test_the_least_recently_read_answer_is_dropped_first():
    cache = AnswerCache(max_bytes=10_000)
    for n in range(9):  # about 1,100 bytes each: nine fit
        cache.answer(key(n), lambda: {"votes": "x" * 1_000})
    cache.get(key(0))
    cache.answer(key(9), lambda: {"votes": "x" * 1_000})
    assert cache.get(key(0)) is not None and cache.get(key(1)) is None and cache.get(key(2)) is not None


def test_an_answer_too_large_for_its_share_of_the_budget_is_built_each_time_not_kept():
    cache = AnswerCache(max_bytes=10_000)
    response = cache.answer(key(1), lambda: {"reason": "x" * 5_000})
    assert len(response.body) > 5_000 and cache.get(key(1)) is None and cache.bytes == 0


def test_a_kept_answer_is_served_before_routing_whatever_else_the_query_string_carries():
    answers = AnswerCache()
    asked = {"type": "http", "method": "GET", "path": "/api/decisions", "query_string": b"limit=3&after=7"}
    answers.put(request_key(asked, HASH), b'{"kept":true}')
    state = SimpleNamespace(answers=answers, cursor_probe=SimpleNamespace(block_hash=lambda: HASH))

    async def router(scope, receive, send):
        raise AssertionError("the request reached the routes")

    sent = []

    async def send(message):
        sent.append(message)

    junk = {**asked, "query_string": b"after=7&utm_source=x&limit=3&junk", "headers": []}
    asyncio.run(CachedAnswers(router, state)(junk, None, send))
    assert sent[0]["status"] == 200 and sent[1]["body"] == b'{"kept":true}'
