"""Reveal and act-on-alias over real gRPC: staff only, with a purpose, recorded, fail-closed.

Acting on an alias hides or shows that alias alone (one alias event); SUSPEND and
REINSTATE also ban or lift the person's writing, HIDE and UNHIDE never touch the account.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from anonymity_harness import Person, Stack, anonymity_settings, rpc_error, running_anonymity
from sqlalchemy import text

from consilium.anonymity.v1 import anonymity_pb2 as pb
from plumbing.auth import Role
from plumbing.events.topics import ANONYMITY_ALIASES
from services.anonymity.domain.access import AccessRecord
from services.anonymity.vault import Vault


class BrokenWriter:
    """An `AccessRecordWriter` whose storage is down."""

    def __init__(self) -> None:
        self.attempts = 0

    async def write(self, record: AccessRecord) -> None:
        self.attempts += 1
        raise ConnectionError("audit storage unreachable")


async def records(stack: Stack) -> list[dict[str, object]]:
    return sorted(await stack.rows("identity_access_records"), key=lambda r: str(r["occurred_at"]))


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
async def test_staff_reveal_with_purpose_is_recorded_first(stack: Stack, role: Role) -> None:
    doctor = await stack.physician()
    alias = (await stack.alias(doctor)).alias_id
    staff = await stack.staff(role)
    reply = await stack.anonymity.RevealAlias(
        pb.RevealAliasRequest(alias_id=alias, purpose="court order 2025-17"),
        metadata=staff.metadata,
    )
    assert reply.user_id == doctor.user_id
    [record] = await records(stack)
    assert record["record_id"] == reply.audit_event_id
    assert record["decision"] == "GRANTED" and record["action"] == "REVEAL_ALIAS"
    assert record["actor_id"] == staff.user_id and role.value in str(record["actor_roles"])
    assert record["subject"] == alias and record["purpose"] == "court order 2025-17"


async def test_refusals_are_recorded(stack: Stack) -> None:
    doctor = await stack.physician()
    alias = (await stack.alias(doctor)).alias_id
    member = await stack.physician()
    moderator = await stack.staff(Role.MODERATOR)
    auditor = await stack.staff(Role.AUDITOR)

    for caller in (member, auditor):
        error = await rpc_error(
            stack.anonymity.RevealAlias(
                pb.RevealAliasRequest(alias_id=alias, purpose="curious"), metadata=caller.metadata
            )
        )
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        assert doctor.user_id not in (error.details() or "")
    error = await rpc_error(
        stack.anonymity.RevealAlias(
            pb.RevealAliasRequest(alias_id=alias, purpose="  "), metadata=moderator.metadata
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = await rpc_error(
        stack.anonymity.RevealAlias(pb.RevealAliasRequest(alias_id=alias, purpose="no token"))
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    error = await rpc_error(
        stack.anonymity.RevealAlias(
            pb.RevealAliasRequest(alias_id="als_" + "c" * 26, purpose="x"),
            metadata=moderator.metadata,
        )
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND

    denied = await records(stack)
    assert [r["decision"] for r in denied] == ["DENIED"] * 5
    assert [r["actor_id"] for r in denied] == [
        member.user_id,
        auditor.user_id,
        moderator.user_id,
        "unauthenticated",
        moderator.user_id,
    ]
    assert [r["reason"] for r in denied] == [
        "PERMISSION_DENIED",
        "PERMISSION_DENIED",
        "INVALID_ARGUMENT",
        "UNAUTHENTICATED",
        "NOT_FOUND",
    ]


async def test_no_record_no_reveal_when_the_record_table_fails(stack: Stack) -> None:
    doctor = await stack.physician()
    alias = (await stack.alias(doctor)).alias_id
    moderator = await stack.staff(Role.MODERATOR)
    async with stack.instance.engine.begin() as conn:
        await conn.execute(text("DROP TABLE identity_access_records"))
    error = await rpc_error(
        stack.anonymity.RevealAlias(
            pb.RevealAliasRequest(alias_id=alias, purpose="investigation"),
            metadata=moderator.metadata,
        )
    )
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert doctor.user_id not in (error.details() or "")
    assert doctor.user_id not in str(error.trailing_metadata())


async def test_no_record_no_reveal_with_a_failing_writer(
    database_url: str, data_dir: object, identity_server: object
) -> None:
    writer = BrokenWriter()
    settings = anonymity_settings(database_url, data_dir, identity_server)  # type: ignore[arg-type]
    async with running_anonymity(settings, identity_server, record_writer=writer) as stack:  # type: ignore[arg-type]
        doctor = await stack.physician()
        alias = (await stack.alias(doctor)).alias_id
        moderator = await stack.staff(Role.MODERATOR)
        for request in (
            stack.anonymity.RevealAlias(
                pb.RevealAliasRequest(alias_id=alias, purpose="investigation"),
                metadata=moderator.metadata,
            ),
            stack.anonymity.ActOnAlias(
                pb.ActOnAliasRequest(alias_id=alias, action=pb.ALIAS_ACTION_SUSPEND, reason="spam"),
                metadata=moderator.metadata,
            ),
        ):
            error = await rpc_error(request)
            assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert writer.attempts == 2
        # Nothing changed either: the person can still post.
        assert (await stack.alias(doctor)).alias_id == alias
        assert (await stack.describe(alias))[alias].state == pb.ALIAS_STATE_ACTIVE


async def test_reveal_is_impossible_after_erasure(stack: Stack) -> None:
    doctor = await stack.physician(full_name="Dr Erasmus Canaryfield")
    thread = await stack.scope(doctor)
    named = (await stack.alias(doctor, pb.VISIBILITY_IDENTIFIED)).alias_id
    hidden = (await stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, thread)).alias_id
    erased = await stack.anonymity.EraseUser(
        pb.EraseUserRequest(user_id=doctor.user_id), metadata=doctor.metadata
    )
    assert erased.orphaned_alias_count == 2
    again = await stack.anonymity.EraseUser(
        pb.EraseUserRequest(user_id=doctor.user_id), metadata=doctor.metadata
    )
    assert again.orphaned_alias_count == 0

    admin = await stack.staff(Role.ADMIN)
    for alias in (named, hidden):
        error = await rpc_error(
            stack.anonymity.RevealAlias(
                pb.RevealAliasRequest(alias_id=alias, purpose="after erasure"),
                metadata=admin.metadata,
            )
        )
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    # Nothing visible changes but the IDENTIFIED alias's name (see test_anonymity_observer).
    personas = await stack.describe(named, hidden)
    assert all(p.state == pb.ALIAS_STATE_ACTIVE for p in personas.values())
    assert not personas[named].HasField("display_name")
    assert all(p.verified_physician for p in personas.values())
    assert await stack.rows("user_keys") == []
    # Tombstoned: the seal opens to nobody, the name is gone with the key.
    found = await stack.stored(named, hidden)
    vault = Vault(stack.instance.keys)
    owner_index = vault.owner_index(doctor.user_id)
    assert not any(vault.owns(alias, owner_index) for alias in found.values())
    suspend = pb.ActOnAliasRequest(alias_id=hidden, action=pb.ALIAS_ACTION_SUSPEND, reason="x")
    error = await rpc_error(stack.anonymity.ActOnAlias(suspend, metadata=admin.metadata))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert [r["decision"] for r in await records(stack)] == ["DENIED"] * 3


async def test_moderator_suspends_without_learning_who(stack: Stack) -> None:
    doctor = await stack.physician()
    thread = await stack.scope(doctor)
    reported = (await stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, thread)).alias_id
    other = (await stack.alias(doctor, pb.VISIBILITY_PSEUDONYMOUS)).alias_id
    moderator = await stack.staff(Role.MODERATOR)

    before = stack.handled
    reply = await stack.anonymity.ActOnAlias(
        pb.ActOnAliasRequest(alias_id=reported, action=pb.ALIAS_ACTION_SUSPEND, reason="abuse"),
        metadata=moderator.metadata,
    )
    assert reply.state == pb.ALIAS_STATE_SUSPENDED
    assert doctor.user_id not in str(reply)
    # The person gets no alias for writing, under any visibility...
    error = await rpc_error(stack.alias(doctor, pb.VISIBILITY_PSEUDONYMOUS))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert stack.accounts.calls == [("suspend", doctor.user_id)]
    await stack.settled(before + 1)
    # ...but only the acted alias is hidden; the other keeps its face and its posts.
    personas = await stack.describe(reported, other)
    assert personas[reported].state == pb.ALIAS_STATE_SUSPENDED
    assert personas[other].state == pb.ALIAS_STATE_ACTIVE
    assert personas[reported].verified_physician and personas[other].verified_physician
    events = await stack.outbox(ANONYMITY_ALIASES)
    assert [(e.type.rsplit(".", 1)[-1], e.key) for e in events] == [("AliasSuspended", reported)]

    member = await stack.physician()
    error = await rpc_error(
        stack.anonymity.ActOnAlias(
            pb.ActOnAliasRequest(alias_id=other, action=pb.ALIAS_ACTION_SUSPEND, reason="x"),
            metadata=member.metadata,
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    reinstated = await stack.anonymity.ActOnAlias(
        pb.ActOnAliasRequest(alias_id=reported, action=pb.ALIAS_ACTION_REINSTATE, reason="appeal"),
        metadata=moderator.metadata,
    )
    assert reinstated.state == pb.ALIAS_STATE_ACTIVE
    assert (await stack.describe(reported))[reported].state == pb.ALIAS_STATE_ACTIVE
    assert (await stack.alias(doctor, pb.VISIBILITY_PSEUDONYMOUS)).alias_id == other
    events = (await stack.outbox(ANONYMITY_ALIASES))[1:]
    assert [(e.type.rsplit(".", 1)[-1], e.key) for e in events] == [("AliasReinstated", reported)]
    decisions = [(r["action"], r["decision"]) for r in await records(stack)]
    assert decisions == [
        ("SUSPEND_ALIAS_OWNER", "GRANTED"),
        ("SUSPEND_ALIAS_OWNER", "DENIED"),
        ("REINSTATE_ALIAS_OWNER", "GRANTED"),
    ]


async def test_hide_and_unhide_act_on_one_alias_and_never_the_account(stack: Stack) -> None:
    doctor = await stack.physician()
    first = (await stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, await stack.scope(doctor))).alias_id
    second = (await stack.alias(doctor, pb.VISIBILITY_PSEUDONYMOUS)).alias_id
    moderator = await stack.staff(Role.MODERATOR)

    def act(alias: str, action: int, who: Person, reason: str = "off-topic") -> Any:
        request = pb.ActOnAliasRequest(
            alias_id=alias, action=pb.AliasAction.ValueType(action), reason=reason
        )
        return stack.anonymity.ActOnAlias(request, metadata=who.metadata)

    hidden = await act(first, pb.ALIAS_ACTION_HIDE, moderator)
    assert hidden.state == pb.ALIAS_STATE_SUSPENDED and hidden.audit_event_id
    again = await act(first, pb.ALIAS_ACTION_HIDE, moderator)  # says nothing new
    assert again.state == pb.ALIAS_STATE_SUSPENDED
    assert stack.accounts.calls == [], "hiding leaves the account alone"
    personas = await stack.describe(first, second)
    assert personas[first].state == pb.ALIAS_STATE_SUSPENDED
    assert personas[second].state == pb.ALIAS_STATE_ACTIVE
    # The person still writes under their other aliases, not under the hidden one.
    assert (await stack.alias(doctor, pb.VISIBILITY_PSEUDONYMOUS)).alias_id == second
    member = await stack.physician()
    denied = await rpc_error(act(second, pb.ALIAS_ACTION_HIDE, member))
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    missing = await rpc_error(act(second, pb.ALIAS_ACTION_HIDE, moderator, reason=" "))
    assert missing.code() == grpc.StatusCode.INVALID_ARGUMENT

    shown = await act(first, pb.ALIAS_ACTION_UNHIDE, moderator)
    assert shown.state == pb.ALIAS_STATE_ACTIVE
    assert stack.accounts.calls == []
    events = await stack.outbox(ANONYMITY_ALIASES)
    assert [(e.type.rsplit(".", 1)[-1], e.key) for e in events] == [
        ("AliasSuspended", first),
        ("AliasReinstated", first),
    ]
    decisions = [(r["action"], r["decision"], r["subject"]) for r in await records(stack)]
    assert decisions == [
        ("HIDE_ALIAS", "GRANTED", first),
        ("HIDE_ALIAS", "GRANTED", first),
        ("HIDE_ALIAS", "DENIED", second),
        ("HIDE_ALIAS", "DENIED", second),
        ("UNHIDE_ALIAS", "GRANTED", first),
    ]


async def test_a_hidden_alias_cannot_write_but_the_person_can(stack: Stack) -> None:
    doctor = await stack.physician()
    thread = await stack.scope(doctor)
    alias = (await stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, thread)).alias_id
    moderator = await stack.staff(Role.MODERATOR)
    await stack.anonymity.ActOnAlias(
        pb.ActOnAliasRequest(alias_id=alias, action=pb.ALIAS_ACTION_HIDE, reason="spam"),
        metadata=moderator.metadata,
    )
    error = await rpc_error(stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, thread))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert (await stack.alias(doctor, pb.VISIBILITY_IDENTIFIED)).alias_id != alias
