"""Staff powers are checked live at identity: a demoted or suspended moderator's token no
longer reveals or acts, an admin lists someone's aliases only with a purpose, and every
refusal, an unreachable identity included, is recorded once before the call fails (A1)."""

from __future__ import annotations

import grpc
import pytest
from anonymity_harness import Person, Stack, rpc_error

from consilium.anonymity.v1 import anonymity_pb2 as pb
from consilium.identity.v1 import identity_pb2 as ipb
from plumbing.auth import Role


async def records(stack: Stack) -> list[dict[str, object]]:
    return sorted(await stack.rows("identity_access_records"), key=lambda r: str(r["occurred_at"]))


async def reveal(stack: Stack, caller: Person, alias: str) -> grpc.aio.AioRpcError:
    return await rpc_error(
        stack.anonymity.RevealAlias(
            pb.RevealAliasRequest(alias_id=alias, purpose="court order 2026-3"),
            metadata=caller.metadata,
        )
    )


async def test_a_demoted_moderator_with_an_old_token_reveals_nothing(stack: Stack) -> None:
    doctor = await stack.physician()
    alias = (await stack.alias(doctor)).alias_id
    moderator = await stack.staff(Role.MODERATOR)
    admin = await stack.staff(Role.ADMIN)
    await stack.identity.SetRoles(
        ipb.SetRolesRequest(user_id=moderator.user_id, roles=[]), metadata=admin.metadata
    )
    error = await reveal(stack, moderator, alias)  # the token still says MODERATOR
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "MODERATOR" in (error.details() or "")
    assert doctor.user_id not in (error.details() or "")
    [record] = await records(stack)
    assert (record["decision"], record["action"]) == ("DENIED", "REVEAL_ALIAS")
    assert record["actor_id"] == moderator.user_id and record["subject"] == alias
    assert str(record["reason"]).startswith("PERMISSION_DENIED: ")
    assert "role" in str(record["reason"])


@pytest.mark.parametrize("action", [pb.ALIAS_ACTION_SUSPEND, pb.ALIAS_ACTION_HIDE])
async def test_a_suspended_moderator_acts_on_nothing(stack: Stack, action: int) -> None:
    doctor = await stack.physician()
    alias = (await stack.alias(doctor)).alias_id
    moderator = await stack.staff(Role.MODERATOR)
    await stack.suspend_account(moderator)
    error = await rpc_error(
        stack.anonymity.ActOnAlias(
            pb.ActOnAliasRequest(alias_id=alias, action=action, reason="spam"),
            metadata=moderator.metadata,
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "suspended" in (error.details() or "")
    [record] = await records(stack)
    assert record["decision"] == "DENIED" and record["actor_id"] == moderator.user_id
    assert "suspended" in str(record["reason"])
    assert (await stack.stored(alias))[alias].state.value == "ACTIVE"
    assert stack.accounts.calls == []


async def test_identity_down_refuses_and_records(stack: Stack) -> None:
    doctor = await stack.physician()
    alias = (await stack.alias(doctor)).alias_id
    moderator = await stack.staff(Role.MODERATOR)
    await stack.identity_instance.server.stop()
    error = await reveal(stack, moderator, alias)
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    [record] = await records(stack)
    assert (record["decision"], record["action"]) == ("DENIED", "REVEAL_ALIAS")
    assert str(record["reason"]).startswith("UNAVAILABLE")
    assert record["subject"] == alias


async def test_an_admin_lists_aliases_only_with_a_purpose_checked_live(stack: Stack) -> None:
    doctor = await stack.physician()
    await stack.alias(doctor)
    admin = await stack.staff(Role.ADMIN)
    error = await rpc_error(
        stack.anonymity.ListAliases(
            pb.ListAliasesRequest(user_id=doctor.user_id), metadata=admin.metadata
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "purpose" in (error.details() or "")
    reply = await stack.anonymity.ListAliases(
        pb.ListAliasesRequest(user_id=doctor.user_id, purpose="subject access request 88"),
        metadata=admin.metadata,
    )
    assert len(reply.aliases) == 1
    denied, granted = await records(stack)
    assert (denied["decision"], denied["action"]) == ("DENIED", "LIST_ALIASES")
    assert granted["decision"] == "GRANTED"
    assert granted["purpose"] == "subject access request 88"
    assert doctor.user_id not in str(granted["subject"])
    other = await stack.staff(Role.ADMIN)
    await stack.identity.SetRoles(
        ipb.SetRolesRequest(user_id=admin.user_id, roles=[]), metadata=other.metadata
    )
    error = await rpc_error(
        stack.anonymity.ListAliases(
            pb.ListAliasesRequest(user_id=doctor.user_id, purpose="again"),
            metadata=admin.metadata,
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    last = (await records(stack))[-1]
    assert (last["decision"], last["purpose"]) == ("DENIED", "again")


async def test_an_unfetchable_key_set_refuses_and_records(stack: Stack) -> None:
    # Anonymity has not verified any token yet, so it must fetch identity's key set first.
    moderator = await stack.staff(Role.MODERATOR)
    await stack.identity_instance.server.stop()
    alias = "als_" + "0" * 32
    for call in (
        stack.anonymity.RevealAlias(
            pb.RevealAliasRequest(alias_id=alias, purpose="court order"),
            metadata=moderator.metadata,
        ),
        stack.anonymity.ActOnAlias(
            pb.ActOnAliasRequest(alias_id=alias, action=pb.ALIAS_ACTION_HIDE, reason="spam"),
            metadata=moderator.metadata,
        ),
    ):
        error = await rpc_error(call)
        assert error.code() == grpc.StatusCode.UNAVAILABLE
    found = await records(stack)
    assert sorted(str(r["action"]) for r in found) == ["HIDE_ALIAS", "REVEAL_ALIAS"]
    for record in found:
        assert record["decision"] == "DENIED" and record["subject"] == alias
        assert str(record["reason"]).startswith("UNAVAILABLE")
        assert record["actor_id"] == "unauthenticated"  # the token could not be checked
