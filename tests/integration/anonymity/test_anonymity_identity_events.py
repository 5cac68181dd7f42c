"""The real round trip: identity's own events drive anonymity, and moderation reaches identity.

Identity and anonymity share one data dir, so both runtimes use the same embedded bus:
identity publishes through its outbox, anonymity consumes as group "anonymity", and a
moderator's ActOnAlias asks identity (with anonymity's service credential) to suspend the
account, whose PhysicianSuspended then bans the person's writing without touching any
other alias.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc
import pytest
from anonymity_harness import (
    CARDIOLOGY,
    PASSWORD,
    TEST_K,
    Person,
    Stack,
    anonymity_settings,
    next_npi,
    running_anonymity,
)

from consilium.anonymity.v1 import anonymity_pb2 as pb
from consilium.identity.v1 import identity_pb2 as ipb
from plumbing.auth import Role
from plumbing.auth.service import ServiceCredentials
from plumbing.events.topics import ANONYMITY_ALIASES
from plumbing.grpc.caller import bearer_metadata
from services.anonymity.adapters.identity_client import IdentityClient
from services.identity.app import Identity


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(20):
        while not await check():  # noqa: ASYNC110 - waiting for events to cross the bus
            await asyncio.sleep(0.05)


@pytest.fixture
async def live(
    database_url: str, data_dir: Path, identity_server: Identity
) -> AsyncIterator[Stack]:
    """Both runtimes started; anonymity's account actions go to the real identity."""
    settings = anonymity_settings(database_url, data_dir, identity_server)
    accounts = IdentityClient(
        settings.identity_address, ServiceCredentials.load("anonymity", data_dir, allow_dev=True)
    )
    async with running_anonymity(settings, identity_server, accounts=accounts) as stack:
        await identity_server.events.start()
        try:
            yield stack
        finally:
            await identity_server.events.stop()
            await accounts.close()


async def register(stack: Stack, admin: Person, name: str) -> Person:
    """Registered and verified at identity only: anonymity hears of it through events."""
    email = f"{name.lower().replace(' ', '.')}@example.org"
    reply = await stack.identity.Register(
        ipb.RegisterRequest(
            email=email,
            password=PASSWORD,
            full_name=name,
            npi=next_npi(),
            specialty_code=CARDIOLOGY,
            country="US",
        )
    )
    user_id = reply.physician.user_id
    await stack.identity.VerifyPhysician(
        ipb.VerifyPhysicianRequest(user_id=user_id, approve=True), metadata=admin.metadata
    )
    login = await stack.identity.Login(ipb.LoginRequest(email=email, password=PASSWORD))
    return Person(user_id, email, name, bearer_metadata(login.access_token))


async def test_identity_events_and_moderation_round_trip(live: Stack) -> None:
    stack = live
    admin = await stack.staff(Role.ADMIN)
    doctors = [await register(stack, admin, f"Dr Roundtrip Canary{i}") for i in range(TEST_K)]

    async def counted() -> bool:
        rows = await stack.rows("verified_counts")
        return any(r["specialty_code"] == CARDIOLOGY and r["verified"] >= TEST_K for r in rows)

    await eventually(counted)  # K verified cardiologists, learnt from identity's events
    # Made now, the alias freezes the specialty (K is checked once, here).
    named = (await stack.alias(doctors[0], pb.VISIBILITY_IDENTIFIED)).alias_id
    assert (await stack.describe(named))[named].specialty.code == CARDIOLOGY
    assert (await stack.describe(named))[named].display_name == "Dr Roundtrip Canary0"

    thread = await stack.scope(doctors[0])
    acted = (await stack.alias(doctors[0], pb.VISIBILITY_ANONYMOUS, thread)).alias_id
    moderator = await stack.staff(Role.MODERATOR)
    await stack.anonymity.ActOnAlias(
        pb.ActOnAliasRequest(alias_id=acted, action=pb.ALIAS_ACTION_SUSPEND, reason="spam"),
        metadata=moderator.metadata,
    )
    profile = await stack.identity.GetPhysician(
        ipb.GetPhysicianRequest(user_id=doctors[0].user_id), metadata=admin.metadata
    )
    assert profile.physician.verification == ipb.VERIFICATION_STATUS_SUSPENDED

    async def banned() -> bool:
        try:
            await stack.alias(doctors[0], pb.VISIBILITY_PSEUDONYMOUS)
        except grpc.aio.AioRpcError as error:
            return error.code() == grpc.StatusCode.FAILED_PRECONDITION
        return False

    await eventually(banned)  # identity's PhysicianSuspended came back
    personas = await stack.describe(named, acted)
    assert personas[acted].state == pb.ALIAS_STATE_SUSPENDED
    assert personas[named].state == pb.ALIAS_STATE_ACTIVE, "only the acted alias is hidden"
    assert [e.key for e in await stack.outbox(ANONYMITY_ALIASES)] == [acted]

    await stack.identity.ErasePhysician(
        ipb.ErasePhysicianRequest(user_id=doctors[0].user_id), metadata=admin.metadata
    )

    async def name_gone() -> bool:
        return not (await stack.describe(named))[named].HasField("display_name")

    await eventually(name_gone)
    assert (await stack.describe(named))[named].specialty.code == CARDIOLOGY
    assert [e.key for e in await stack.outbox(ANONYMITY_ALIASES)] == [acted], "none for erasure"
