"""Protobuf <-> domain conversions for anonymity; protobuf goes no further than this module."""

from __future__ import annotations

from consilium.anonymity.v1 import anonymity_pb2 as pb
from plumbing.timestamps import timestamp
from services.anonymity.domain.aliases import AliasAction, AliasState, StoredAlias, Visibility
from services.anonymity.domain.inbox import Positioned, encode_cursor
from services.anonymity.domain.personas import Persona

_VISIBILITY_TO_PB = {
    Visibility.IDENTIFIED: pb.VISIBILITY_IDENTIFIED,
    Visibility.PSEUDONYMOUS: pb.VISIBILITY_PSEUDONYMOUS,
    Visibility.ANONYMOUS: pb.VISIBILITY_ANONYMOUS,
}
_VISIBILITY_FROM_PB = {v: k for k, v in _VISIBILITY_TO_PB.items()}
_STATE_TO_PB = {
    AliasState.ACTIVE: pb.ALIAS_STATE_ACTIVE,
    AliasState.SUSPENDED: pb.ALIAS_STATE_SUSPENDED,
    AliasState.ORPHANED: pb.ALIAS_STATE_ORPHANED,
}
_ACTION_FROM_PB = {
    pb.ALIAS_ACTION_SUSPEND: AliasAction.SUSPEND,
    pb.ALIAS_ACTION_REINSTATE: AliasAction.REINSTATE,
    pb.ALIAS_ACTION_HIDE: AliasAction.HIDE,
    pb.ALIAS_ACTION_UNHIDE: AliasAction.UNHIDE,
}


def visibility_from_proto(value: int) -> Visibility | None:
    """None for UNSPECIFIED or unknown values; the use case says what to send instead."""
    return _VISIBILITY_FROM_PB.get(value)  # type: ignore[call-overload, no-any-return]


def action_from_proto(value: int) -> AliasAction | None:
    return _ACTION_FROM_PB.get(value)  # type: ignore[call-overload, no-any-return]


def state_to_proto(state: AliasState) -> pb.AliasState.ValueType:
    return _STATE_TO_PB[state]


def persona_to_proto(persona: Persona) -> pb.Persona:
    message = pb.Persona(
        alias_id=persona.alias_id,
        handle=persona.handle,
        verified_physician=persona.verified_physician,
        visibility=_VISIBILITY_TO_PB[persona.visibility],
        state=_STATE_TO_PB[persona.state],
    )
    if persona.specialty is not None:
        message.specialty.code = persona.specialty.code
        message.specialty.name = persona.specialty.name
    if persona.display_name is not None:
        message.display_name = persona.display_name
    return message


def alias_to_proto(alias: StoredAlias, persona: Persona) -> pb.Alias:
    return pb.Alias(
        persona=persona_to_proto(persona),
        scope_id=alias.scope_id or "",
        created_at=timestamp(alias.created_at),
    )


def entry_to_proto(positioned: Positioned, *, read_up_to: int = 0) -> pb.IndexEntry:
    """One index entry; `read` only means something for notifications."""
    entry = positioned.entry
    visibility = Visibility(entry.visibility) if entry.visibility else None
    return pb.IndexEntry(
        cursor=encode_cursor(positioned.position),
        kind=pb.EntryKind.Value(f"ENTRY_KIND_{entry.kind.value}"),
        post_id=entry.post_id,
        comment_id=entry.comment_id,
        occurred_at=timestamp(entry.occurred_at),
        visibility=_VISIBILITY_TO_PB[visibility] if visibility else pb.VISIBILITY_UNSPECIFIED,
        read=positioned.position <= read_up_to,
    )
