"""Identity's domain events as protobuf payloads on `identity.physicians.v1`, keyed by user id."""

from __future__ import annotations

from typing import assert_never

from google.protobuf.message import Message

from consilium.events.v1 import identity_events_pb2 as ev
from plumbing.events.envelope import Event, new_event
from plumbing.events.topics import IDENTITY_PHYSICIANS
from services.identity.adapters.converters import status_to_proto
from services.identity.domain.events import (
    PhysicianErased,
    PhysicianEvent,
    PhysicianRegistered,
    PhysicianReinstated,
    PhysicianSuspended,
    PhysicianVerified,
)

#: CloudEvents `source` of every event identity publishes.
SOURCE = "/consilium/identity"


def event_to_proto(event: PhysicianEvent) -> Message:
    """The payload; field by field, so nothing the proto does not name can slip in."""
    match event:
        case PhysicianRegistered(user_id, specialty_code):
            return ev.PhysicianRegistered(user_id=user_id, specialty_code=specialty_code)
        case PhysicianVerified(user_id, specialty_code):
            return ev.PhysicianVerified(user_id=user_id, specialty_code=specialty_code)
        case PhysicianSuspended(user_id):
            return ev.PhysicianSuspended(user_id=user_id)
        case PhysicianReinstated(user_id, verification):
            return ev.PhysicianReinstated(
                user_id=user_id, verification=status_to_proto(verification)
            )
        case PhysicianErased(user_id):
            return ev.PhysicianErased(user_id=user_id)
        case _:
            assert_never(event)


def to_envelope(event: PhysicianEvent) -> Event:
    """The event as the outbox stores it, with the current trace context."""
    return new_event(
        event_to_proto(event), topic=IDENTITY_PHYSICIANS, key=event.user_id, source=SOURCE
    )
