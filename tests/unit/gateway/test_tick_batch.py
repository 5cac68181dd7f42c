"""TickBatch: the calls of one tick share one fetch; an error or a cancelled caller stays theirs."""

from __future__ import annotations

import asyncio

import pytest

from gateway.tick_batch import TickBatch


class Fetch:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, keys: list[str]) -> dict[str, int]:
        self.calls.append(keys)
        await self.release.wait()
        if self.fail:
            raise RuntimeError("upstream down")
        return {k: len(k) for k in keys}


async def test_calls_in_one_tick_share_one_fetch_and_later_ones_get_their_own() -> None:
    fetch = Fetch()
    batch = TickBatch(fetch)
    first, second = await asyncio.gather(batch(["a", "bb"]), batch(["bb", "ccc"]))
    assert fetch.calls == [["a", "bb", "ccc"]]
    assert first == second == {"a": 1, "bb": 2, "ccc": 3}
    await batch(["d"])
    assert fetch.calls[1:] == [["d"]]


async def test_an_error_reaches_every_caller_of_the_batch() -> None:
    batch = TickBatch(Fetch(fail=True))
    results = await asyncio.gather(batch(["a"]), batch(["b"]), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]


async def test_a_cancelled_caller_does_not_cancel_the_others() -> None:
    fetch = Fetch()
    fetch.release.clear()
    batch = TickBatch(fetch)
    gone = asyncio.ensure_future(batch(["a"]))
    kept = asyncio.ensure_future(batch(["b"]))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    gone.cancel()
    fetch.release.set()
    assert await kept == {"a": 1, "b": 1}
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert fetch.calls == [["a", "b"]]
