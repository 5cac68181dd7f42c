"""Writes identity-access records fail-closed, stamped with the current trace and span ids."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from opentelemetry import trace

from plumbing.auth import AccessClaims
from plumbing.errors import DomainError, PermissionDenied, Unavailable
from services.anonymity.domain.access import (
    AccessAction,
    AccessRecord,
    Decision,
    actor_fields,
    new_record_id,
)
from services.anonymity.ports import AccessRecordWriter

log = logging.getLogger("consilium.anonymity")

UNRECORDED = (
    "the identity access could not be recorded, so nothing was revealed or changed; "
    "try again shortly"
)


def denial_reason(error: DomainError, *, live: bool = False) -> str:
    """The recorded reason: the code, and for a live staff check's refusal also why
    (suspended, no longer holds the role, identity unreachable: no personal data)."""
    if live and isinstance(error, PermissionDenied | Unavailable) and error.message:
        return f"{error.code.value}: {error.message}"[:500]
    return error.code.value


def _trace_ids() -> tuple[str, str]:
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return "", ""
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


class AccessRecorder:
    """Builds records and makes them durable; any failure becomes UNAVAILABLE (fail closed)."""

    def __init__(self, writer: AccessRecordWriter, clock: Callable[[], datetime]) -> None:
        self._writer = writer
        self._clock = clock

    async def record(
        self,
        caller: AccessClaims | None,
        *,
        action: AccessAction,
        subject: str,
        purpose: str,
        decision: Decision,
        reason: str = "",
    ) -> str:
        """The id of the durable record; raises Unavailable if it could not be written."""
        actor_id, actor_roles = actor_fields(caller)
        trace_id, span_id = _trace_ids()
        record = AccessRecord(
            record_id=new_record_id(),
            occurred_at=self._clock(),
            actor_id=actor_id,
            actor_roles=actor_roles,
            subject=subject,
            action=action,
            purpose=purpose,
            decision=decision,
            reason=reason,
            trace_id=trace_id,
            span_id=span_id,
        )
        try:
            await self._writer.write(record)
        except Exception as exc:
            # Type only: driver messages quote the statement parameters (actor, purpose).
            log.error("identity-access record not written (%s)", type(exc).__name__)
            raise Unavailable(UNRECORDED) from None
        return record.record_id
