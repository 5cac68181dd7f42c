"""The fast Timestamp conversions give exactly what protobuf's own helpers give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from plumbing.timestamps import set_timestamp, timestamp, to_datetime

MOMENTS = [
    datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=UTC),
    datetime(1969, 7, 20, 20, 17, 40, 1, tzinfo=UTC),  # before the epoch
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    datetime(2031, 12, 31, 23, 59, 59, 999999),  # naive: protobuf takes it as UTC
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


@pytest.mark.parametrize("when", MOMENTS, ids=str)
def test_to_a_timestamp_as_protobuf_does(when: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(when)
    assert timestamp(when) == expected
    target = Timestamp()
    set_timestamp(target, when)
    assert target == expected


@pytest.mark.parametrize("when", MOMENTS, ids=str)
def test_from_a_timestamp_as_protobuf_does(when: datetime) -> None:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    stamp.nanos += 999 if stamp.nanos < 999_000_000 else 0  # below a microsecond: dropped
    assert to_datetime(stamp) == stamp.ToDatetime(tzinfo=UTC)
    assert to_datetime(stamp).tzinfo is UTC


@pytest.mark.parametrize(
    ("seconds", "nanos"),
    [
        (0, 0),
        (1_790_000_000, 123_456_789),
        (1_790_000_000, 999_999_999),  # truncated to the microsecond, never rounded up
        (1_790_000_000, 999),
        (-1, 500_000_000),  # before the epoch
        (-62_135_596_800, 0),  # 0001-01-01, the smallest valid Timestamp
        (253_402_300_799, 999_999_999),  # 9999-12-31T23:59:59.999999999
    ],
)
def test_edge_timestamps_to_a_datetime_as_protobuf_does(seconds: int, nanos: int) -> None:
    stamp = Timestamp(seconds=seconds, nanos=nanos)
    converted = to_datetime(stamp)
    assert converted == stamp.ToDatetime(UTC)
    assert converted.tzinfo is UTC and converted.utcoffset() == stamp.ToDatetime(UTC).utcoffset()
    assert converted.isoformat() == stamp.ToDatetime(UTC).isoformat()


@pytest.mark.parametrize(
    ("seconds", "nanos"),
    [
        (0, -5),
        (0, 1_000_000_000),
        (253_402_300_800, 0),  # past 9999-12-31
        (-62_135_596_801, 0),  # before 0001-01-01
    ],
)
def test_an_invalid_timestamp_is_refused_as_protobuf_refuses_it(seconds: int, nanos: int) -> None:
    stamp = Timestamp(seconds=seconds, nanos=nanos)
    with pytest.raises(ValueError):
        stamp.ToDatetime(UTC)
    with pytest.raises(ValueError, match="Timestamp is not valid"):
        to_datetime(stamp)
