"""A page's anonymity calls stay within what anonymity takes per call (500 scope ids and 500
alias ids): more is split, and the answers come back whole."""

from __future__ import annotations

from fake_upstreams import FakeUpstreams, reader

from gateway.batches import Batches
from gateway.caches import SharedCaches
from gateway.clients.anonymity import MAX_BATCH


def _batches(upstreams: FakeUpstreams) -> Batches:
    return Batches(
        upstreams.anonymity,  # type: ignore[arg-type]
        upstreams.content,  # type: ignore[arg-type]
        reader(),
        upstreams.identity,  # type: ignore[arg-type]
        upstreams.caches,
    )


async def test_more_than_a_call_of_scopes_and_aliases_is_split_within_the_limit() -> None:
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=1)
    scopes = ["scp_000", *(f"scp_x{i:04d}" for i in range(MAX_BATCH + 20))]
    aliases = ["als_p000", *(f"als_x{i:04d}" for i in range(2 * MAX_BATCH))]
    found = await _batches(upstreams).viewer_aliases(scopes, aliases)
    calls = [keys for rpc, keys in upstreams.calls.log if rpc == "BatchGetThreadAliases"]
    assert len(calls) == 3  # 521 scopes and 1,001 aliases: three calls, not one refused
    asked_scopes = [k for keys in calls for k in keys if k.startswith("scp_")]
    asked_aliases = [k for keys in calls for k in keys if k.startswith("als_")]
    assert sorted(asked_scopes) == sorted(scopes) and sorted(asked_aliases) == sorted(aliases)
    for keys in calls:
        assert sum(k.startswith("scp_") for k in keys) <= MAX_BATCH
        assert sum(k.startswith("als_") for k in keys) <= MAX_BATCH
    assert found.threads == {"scp_000": "als_p000"} and "als_p000" in found.owned


async def test_more_personas_than_a_call_takes_are_asked_in_parts() -> None:
    upstreams = FakeUpstreams.seeded(SharedCaches.disabled(), posts=1)
    aliases = [f"als_x{i:04d}" for i in range(MAX_BATCH + 1)]
    personas = await _batches(upstreams).personas(aliases)
    calls = [keys for rpc, keys in upstreams.calls.log if rpc == "BatchDescribeAliases"]
    assert sorted(len(keys) for keys in calls) == [1, MAX_BATCH]
    assert set(personas) == set(aliases)
