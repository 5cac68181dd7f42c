"""The fast Timestamp conversion answers exactly what protobuf's ToDatetime answers."""

from __future__ import annotations

from datetime import UTC

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.timestamps import to_datetime


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
def test_same_as_protobuf(seconds: int, nanos: int) -> None:
    stamp = Timestamp(seconds=seconds, nanos=nanos)
    converted = to_datetime(stamp)
    assert converted == stamp.ToDatetime(UTC)
    assert converted.tzinfo is UTC and converted.utcoffset() == stamp.ToDatetime(UTC).utcoffset()
    assert converted.isoformat() == stamp.ToDatetime(UTC).isoformat()
