"""Access records: fail closed when the writer fails; stamped with the current trace and span."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace import TracerProvider

from plumbing.auth import AccessClaims, Role, VerificationStatus
from plumbing.errors import ErrorCode, Unavailable
from services.anonymity.domain.access import AccessAction, AccessRecord, Decision
from services.anonymity.recorder import AccessRecorder

NOW = datetime(2025, 5, 1, 12, tzinfo=UTC)
MODERATOR = AccessClaims(
    user_id="usr_moderator0000000000000000",
    roles=frozenset({Role.MEMBER, Role.MODERATOR}),
    verification=VerificationStatus.VERIFIED,
    issued_at=NOW,
    expires_at=NOW,
    key_id="k",
)


class ListWriter:
    def __init__(self) -> None:
        self.records: list[AccessRecord] = []

    async def write(self, record: AccessRecord) -> None:
        self.records.append(record)


class FailingWriter:
    async def write(self, record: AccessRecord) -> None:
        raise RuntimeError("INSERT failed with parameters (usr_secret, 'purpose')")


async def test_record_carries_actor_subject_and_trace() -> None:
    writer = ListWriter()
    recorder = AccessRecorder(writer, clock=lambda: NOW)
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("reveal") as span:
        record_id = await recorder.record(
            MODERATOR,
            action=AccessAction.REVEAL_ALIAS,
            subject="als_x",
            purpose="legal hold",
            decision=Decision.GRANTED,
        )
        context = span.get_span_context()
    [record] = writer.records
    assert record.record_id == record_id and record_id.startswith("iar_")
    assert record.actor_id == MODERATOR.user_id and record.actor_roles == "MEMBER,MODERATOR"
    assert record.trace_id == format(context.trace_id, "032x")
    assert record.span_id == format(context.span_id, "016x")
    assert record.occurred_at == NOW and record.decision is Decision.GRANTED


async def test_a_failing_writer_fails_closed_without_leaking_its_message() -> None:
    recorder = AccessRecorder(FailingWriter(), clock=lambda: NOW)
    with pytest.raises(Unavailable) as caught:
        await recorder.record(
            None,
            action=AccessAction.REVEAL_ALIAS,
            subject="als_x",
            purpose="p",
            decision=Decision.DENIED,
        )
    assert caught.value.code is ErrorCode.UNAVAILABLE
    assert "usr_secret" not in caught.value.message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
