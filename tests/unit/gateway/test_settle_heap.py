"""The gateway's start leaves its long-lived heap to itself and collects young objects less
often; a threshold already set higher (by an operator) is kept."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from gateway.app import settle_heap


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)
    gc.unfreeze()


def test_the_heap_is_frozen_and_young_collections_come_less_often() -> None:
    gc.set_threshold(700, 10, 10)
    before = gc.get_freeze_count()
    settle_heap()
    assert gc.get_freeze_count() > before
    young, middle, old = gc.get_threshold()
    assert young >= 10_000 and (middle, old) == (10, 10)


def test_a_higher_threshold_is_kept() -> None:
    gc.set_threshold(100_000, 5, 5)
    settle_heap()
    assert gc.get_threshold() == (100_000, 5, 5)
