"""Traces stop at the privacy line in anonymity itself (finding 4, A3).

Person-level events (identity's PhysicianSuspended, ...) make no alias event at all any more;
the crossing that remains is a moderator's act on one alias, which suspends the person
behind it at identity: the alias event keeps the request's trace, identity's person-keyed
event must start its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from anonymity_harness import anonymity_settings, running_anonymity
from opentelemetry import trace
from support.tracing import recorded_spans

from consilium.anonymity.v1 import anonymity_pb2 as pb
from plumbing.auth import Role
from plumbing.events.topics import ANONYMITY_ALIASES
from services.identity.app import Identity


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'anonymity.db'}"


@pytest.fixture
def recording() -> Iterator[None]:
    """Real trace ids for this test (see support.tracing)."""
    with recorded_spans():
        yield


async def test_a_moderators_suspension_keeps_the_person_event_out_of_the_alias_trace(
    database_url: str, data_dir: Path, identity_server: Identity, recording: None
) -> None:
    settings = anonymity_settings(database_url, data_dir, identity_server)
    async with running_anonymity(settings, identity_server) as stack:
        doctor = await stack.physician()
        alias = (await stack.alias(doctor, pb.VISIBILITY_PSEUDONYMOUS)).alias_id
        moderator = await stack.staff(Role.MODERATOR)
        person_events = len(await stack.person_events())
        with trace.get_tracer("test").start_as_current_span("moderator request") as span:
            request_trace = format(span.get_span_context().trace_id, "032x")
            await stack.anonymity.ActOnAlias(
                pb.ActOnAliasRequest(alias_id=alias, action=pb.ALIAS_ACTION_SUSPEND, reason="x"),
                metadata=moderator.metadata,
            )
        (alias_event,) = [e for e in await stack.outbox(ANONYMITY_ALIASES) if e.key == alias]
        (person_event,) = (await stack.person_events())[person_events:]
    assert alias_event.traceparent and person_event.traceparent, "tracing was not recording"
    alias_trace = alias_event.traceparent.split("-")[1]
    person_trace = person_event.traceparent.split("-")[1]
    assert alias_trace == request_trace, "the alias event lost the moderator request's trace"
    assert person_trace != alias_trace, "identity's person event joins the alias's trace"
