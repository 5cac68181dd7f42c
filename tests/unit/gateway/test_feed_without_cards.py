"""A page that comes without the cards it asked content to carry (content could not read
them) still shows them: the gateway asks BatchGetFeedCards itself, once, for the page."""

from __future__ import annotations

from collections import Counter

import pytest
from fake_upstreams import FakeUpstreams, context, reader
from perf.queries import FEED, SEARCH

from gateway.caches import SharedCaches
from gateway.schema.build import build_schema
from gateway.settings import GatewaySettings

SCHEMA = build_schema(GatewaySettings())


@pytest.mark.parametrize(
    ("query", "variables", "page_call"),
    [(FEED, {}, "ListFeed"), (SEARCH, {"text": "body"}, "Search")],
    ids=["feed", "search"],
)
async def test_a_page_without_its_cards_answers_the_same_with_one_more_call(
    query: str, variables: dict[str, str], page_call: str
) -> None:
    answers, calls = {}, {}
    for carried in (True, False):
        upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=6, comments=3)
        upstreams.content.carries_cards = carried
        result = await SCHEMA.execute(
            query, variable_values=variables, context_value=context(upstreams, reader())
        )
        assert result.errors is None, result.errors
        answers[carried], calls[carried] = result.data, upstreams.calls.counts()
    assert answers[False] == answers[True]
    assert calls[True][page_call] == 1 and calls[True]["BatchGetFeedCards"] == 0
    assert calls[False] - calls[True] == Counter({"BatchGetFeedCards": 1})
    assert calls[True] - calls[False] == Counter()
