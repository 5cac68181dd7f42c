"""Verification, roles, suspension, erasure and profile reads: who may, and what they get."""

from __future__ import annotations

import grpc
import pytest
from identity_harness import IdentityClient, next_npi, violations
from sqlalchemy import text

from consilium.identity.v1 import identity_pb2 as pb
from services.identity.domain.physician import Role, new_user_id

A_MISSING_ID = new_user_id()


async def rpc_error(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value


async def test_admin_verifies_and_rejects(identity: IdentityClient) -> None:
    _, admin = await identity.staff(Role.ADMIN)
    first, _ = await identity.member()
    second, _ = await identity.member()
    approved = await identity.stub.VerifyPhysician(
        pb.VerifyPhysicianRequest(user_id=first.user_id, approve=True), metadata=admin
    )
    assert approved.physician.verification == pb.VERIFICATION_STATUS_VERIFIED
    rejected = await identity.stub.VerifyPhysician(
        pb.VerifyPhysicianRequest(user_id=second.user_id, approve=False), metadata=admin
    )
    assert rejected.physician.verification == pb.VERIFICATION_STATUS_REJECTED
    again = await rpc_error(
        identity.stub.VerifyPhysician(
            pb.VerifyPhysicianRequest(user_id=first.user_id, approve=True), metadata=admin
        )
    )
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MODERATOR, Role.AUDITOR])
async def test_only_admins_verify(identity: IdentityClient, role: Role) -> None:
    target, _ = await identity.member()
    _, caller = await identity.staff(role)
    error = await rpc_error(
        identity.stub.VerifyPhysician(
            pb.VerifyPhysicianRequest(user_id=target.user_id, approve=True), metadata=caller
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "ADMIN" in error.details()


@pytest.mark.parametrize(
    "request_",
    [
        pb.VerifyPhysicianRequest(user_id=A_MISSING_ID, approve=True),
        pb.SetRolesRequest(user_id=A_MISSING_ID, roles=[pb.ROLE_MODERATOR]),
        pb.SuspendPhysicianRequest(user_id=A_MISSING_ID, reason="spam"),
        pb.ReinstatePhysicianRequest(user_id=A_MISSING_ID),
        pb.ErasePhysicianRequest(user_id=A_MISSING_ID),
        pb.GetPhysicianRequest(user_id=A_MISSING_ID),
        pb.BatchGetPhysiciansRequest(user_ids=[A_MISSING_ID]),
        pb.CountVerifiedBySpecialtyRequest(),
    ],
    ids=lambda r: type(r).__name__,
)
async def test_calls_without_a_token_are_unauthenticated(
    identity: IdentityClient, request_: object
) -> None:
    method = type(request_).__name__.removesuffix("Request")
    error = await rpc_error(getattr(identity.stub, method)(request_))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_forged_token_is_unauthenticated(identity: IdentityClient) -> None:
    _, admin = await identity.staff(Role.ADMIN)
    token = admin[0][1].removeprefix("Bearer ")
    head, payload, signature = token.split(".")
    forged = (("authorization", f"Bearer {head}.{payload}.{signature[::-1]}"),)
    error = await rpc_error(
        identity.stub.GetPhysician(pb.GetPhysicianRequest(user_id=A_MISSING_ID), metadata=forged)
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (pb.VerifyPhysicianRequest(user_id="42", approve=True), "user_id"),
        (pb.SetRolesRequest(user_id="usr_x", roles=[]), "user_id"),
        (pb.SuspendPhysicianRequest(user_id="", reason="spam"), "user_id"),
        (pb.ReinstatePhysicianRequest(user_id="nope"), "user_id"),
        (pb.ErasePhysicianRequest(user_id="nope"), "user_id"),
        (pb.GetPhysicianRequest(user_id="nope"), "user_id"),
        (pb.BatchGetPhysiciansRequest(user_ids=[A_MISSING_ID, "bad"]), "user_ids[1]"),
        (pb.SetRolesRequest(user_id=A_MISSING_ID, roles=[pb.ROLE_ADMIN, 99]), "roles[1]"),
        (pb.SuspendPhysicianRequest(user_id=A_MISSING_ID, reason=" "), "reason"),
    ],
    ids=lambda r: type(r).__name__ if not isinstance(r, str) else r,
)
async def test_bad_arguments_name_the_field(
    identity: IdentityClient, request_: object, field: str
) -> None:
    _, admin = await identity.staff(Role.ADMIN)
    method = type(request_).__name__.removesuffix("Request")
    error = await rpc_error(getattr(identity.stub, method)(request_, metadata=admin))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(error) == [field]


@pytest.mark.parametrize(
    "request_",
    [
        pb.VerifyPhysicianRequest(user_id=A_MISSING_ID, approve=True),
        pb.SuspendPhysicianRequest(user_id=A_MISSING_ID, reason="spam"),
        pb.GetPhysicianRequest(user_id=A_MISSING_ID),
    ],
    ids=lambda r: type(r).__name__,
)
async def test_unknown_physician_is_not_found(identity: IdentityClient, request_: object) -> None:
    _, admin = await identity.staff(Role.ADMIN)
    method = type(request_).__name__.removesuffix("Request")
    error = await rpc_error(getattr(identity.stub, method)(request_, metadata=admin))
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_suspend_then_reinstate_restores_the_status(identity: IdentityClient) -> None:
    _, admin = await identity.staff(Role.ADMIN)
    target, _ = await identity.member()
    await identity.stub.VerifyPhysician(
        pb.VerifyPhysicianRequest(user_id=target.user_id, approve=True), metadata=admin
    )
    suspended = await identity.stub.SuspendPhysician(
        pb.SuspendPhysicianRequest(user_id=target.user_id, reason="harassment"), metadata=admin
    )
    assert suspended.physician.verification == pb.VERIFICATION_STATUS_SUSPENDED
    reinstated = await identity.stub.ReinstatePhysician(
        pb.ReinstatePhysicianRequest(user_id=target.user_id), metadata=admin
    )
    assert reinstated.physician.verification == pb.VERIFICATION_STATUS_VERIFIED
    error = await rpc_error(
        identity.stub.ReinstatePhysician(
            pb.ReinstatePhysicianRequest(user_id=target.user_id), metadata=admin
        )
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_roles_are_replaced_and_member_kept(identity: IdentityClient) -> None:
    _, admin = await identity.staff(Role.ADMIN)
    target, _ = await identity.member()
    reply = await identity.stub.SetRoles(
        pb.SetRolesRequest(user_id=target.user_id, roles=[pb.ROLE_MODERATOR]), metadata=admin
    )
    assert sorted(reply.physician.roles) == [pb.ROLE_MEMBER, pb.ROLE_MODERATOR]
    token = await identity.login(target.email)
    assert token  # the new role is in the next token
    keys = identity.instance.keys.verifier().verify(token)
    assert Role.MODERATOR in keys.roles


async def test_admins_cannot_change_themselves(identity: IdentityClient) -> None:
    admin_id, admin = await identity.staff(Role.ADMIN)
    error = await rpc_error(
        identity.stub.SetRoles(pb.SetRolesRequest(user_id=admin_id, roles=[]), metadata=admin)
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_profiles_own_or_admin(identity: IdentityClient) -> None:
    me, mine = await identity.member()
    other, _ = await identity.member()
    own = await identity.stub.GetPhysician(
        pb.GetPhysicianRequest(user_id=me.user_id), metadata=mine
    )
    assert own.physician.email == me.email
    error = await rpc_error(
        identity.stub.GetPhysician(pb.GetPhysicianRequest(user_id=other.user_id), metadata=mine)
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    error = await rpc_error(
        identity.stub.BatchGetPhysicians(
            pb.BatchGetPhysiciansRequest(user_ids=[me.user_id, other.user_id]), metadata=mine
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_batch_get_returns_found_and_missing(identity: IdentityClient) -> None:
    _, admin = await identity.staff(Role.ADMIN)
    people = [(await identity.member())[0] for _ in range(3)]
    ids = [p.user_id for p in people]
    reply = await identity.stub.BatchGetPhysicians(
        pb.BatchGetPhysiciansRequest(user_ids=[*ids, A_MISSING_ID, ids[0]]), metadata=admin
    )
    assert sorted(p.user_id for p in reply.physicians) == sorted(ids)
    assert list(reply.missing_user_ids) == [A_MISSING_ID]
    too_many = await rpc_error(
        identity.stub.BatchGetPhysicians(
            pb.BatchGetPhysiciansRequest(user_ids=[new_user_id() for _ in range(501)]),
            metadata=admin,
        )
    )
    assert too_many.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(too_many) == ["user_ids"]


async def test_erasure_removes_personal_data(identity: IdentityClient) -> None:
    canary_email = "canary.erase@example.org"
    canary_name = "Dr. Canary Eraseme"
    canary_npi = next_npi()
    target = await identity.register(email=canary_email, full_name=canary_name, npi=canary_npi)
    token = await identity.login(canary_email)
    mine = (("authorization", f"Bearer {token}"),)
    await identity.stub.ErasePhysician(
        pb.ErasePhysicianRequest(user_id=target.user_id), metadata=mine
    )
    error = await rpc_error(identity.stub.Login(pb.LoginRequest(email=canary_email, password="x")))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    _, admin = await identity.staff(Role.ADMIN)
    reply = await identity.stub.GetPhysician(
        pb.GetPhysicianRequest(user_id=target.user_id), metadata=admin
    )
    assert reply.physician.erased
    assert (reply.physician.email, reply.physician.full_name, reply.physician.npi) == ("", "", "")
    async with identity.instance.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT * FROM physicians WHERE user_id = :u"), {"u": target.user_id}
            )
        ).one()
    stored = " ".join(str(v) for v in row)
    for canary in (canary_email, "Eraseme", canary_npi, "argon2"):
        assert canary not in stored
    # The email and NPI are free again: the person may come back as someone new.
    await identity.register(email=canary_email, npi=canary_npi)


async def test_count_verified_by_specialty(identity: IdentityClient) -> None:
    _, admin = await identity.staff(Role.ADMIN)
    for _ in range(2):
        member = await identity.register(specialty_code="2084N0400X")
        await identity.stub.VerifyPhysician(
            pb.VerifyPhysicianRequest(user_id=member.user_id, approve=True), metadata=admin
        )
    await identity.register(specialty_code="2084N0400X")  # pending: not counted
    reply = await identity.stub.CountVerifiedBySpecialty(
        pb.CountVerifiedBySpecialtyRequest(), metadata=admin
    )
    counts = {c.specialty_code: c.verified_count for c in reply.counts}
    assert counts["2084N0400X"] == 2
