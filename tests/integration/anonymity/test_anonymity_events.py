"""Identity's events in, alias events out: counts, write bans, erasure, idempotence.

Person-level events change anonymity's own records and the person's write ban, never an
alias: no alias event goes out for them (only a moderator acting on one alias makes one).

Identity events are published on the bus anonymity's runtime consumes (the embedded bus
here); what anonymity emits is read from its outbox, where it is written in the same
transaction as the change, and from the topic once the relay has sent it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import grpc
from anonymity_harness import (
    CARDIOLOGY,
    DERMATOLOGY,
    TEST_K,
    Person,
    Stack,
    identity_event,
    rpc_error,
)

from consilium.anonymity.v1 import anonymity_pb2 as pb
from consilium.events.v1 import anonymity_events_pb2 as aev
from consilium.events.v1 import identity_events_pb2 as iev
from consilium.identity.v1 import identity_pb2 as ipb
from plumbing.auth import Role
from plumbing.events.envelope import Event
from plumbing.events.topics import ANONYMITY_ALIASES
from services.anonymity.domain.aliases import Visibility
from services.anonymity.vault import Vault

_TYPES = {
    m.DESCRIPTOR.full_name: m for m in (aev.AliasSuspended, aev.AliasReinstated, aev.AliasOrphaned)
}


def decoded(events: list[Event]) -> list[tuple[str, str, int]]:
    """(payload type name, alias id, cause) of alias events; keys must be the alias ids."""
    out: list[tuple[str, str, int]] = []
    for event in events:
        message = event.decode(_TYPES[event.type])
        assert event.key == message.alias_id
        cause = message.cause if isinstance(message, aev.AliasSuspended) else 0
        out.append((type(message).__name__, message.alias_id, cause))
    return out


async def three_aliases(stack: Stack, person: Person) -> list[str]:
    thread = await stack.scope(person)
    return sorted(
        [
            (await stack.alias(person, pb.VISIBILITY_IDENTIFIED)).alias_id,
            (await stack.alias(person, pb.VISIBILITY_PSEUDONYMOUS)).alias_id,
            (await stack.alias(person, pb.VISIBILITY_ANONYMOUS, thread)).alias_id,
        ]
    )


async def counts(stack: Stack) -> dict[str, int]:
    return {r["specialty_code"]: r["verified"] for r in await stack.rows("verified_counts")}


async def test_counts_follow_identity_events_and_new_aliases_freeze_them(stack: Stack) -> None:
    doctors = [await stack.physician(specialty=CARDIOLOGY) for _ in range(TEST_K)]
    pending = await stack.physician(specialty=CARDIOLOGY, verified=False)
    alias = (await stack.alias(doctors[0], pb.VISIBILITY_IDENTIFIED)).alias_id
    assert (await counts(stack))[CARDIOLOGY] == TEST_K, "the pending one does not count"
    persona = (await stack.describe(alias))[alias]
    assert persona.specialty.code == CARDIOLOGY and persona.verified_physician
    assert persona.display_name == doctors[0].full_name

    # One cardiologist moves to dermatology: cardiology drops below K. The alias made
    # before keeps the face it was made with; one made now does not show cardiology.
    moved = doctors[-1].user_id
    change = iev.PhysicianSpecialtyChanged(
        user_id=moved, specialty_code=DERMATOLOGY, previous_specialty_code=CARDIOLOGY
    )
    await stack.publish(identity_event(change, moved))
    assert await counts(stack) == {CARDIOLOGY: TEST_K - 1, DERMATOLOGY: 1}
    assert (await stack.describe(alias))[alias] == persona
    later = (await stack.alias(doctors[1], pb.VISIBILITY_PSEUDONYMOUS)).persona
    assert not later.HasField("specialty") and later.handle.startswith("Anonymous Physician ")

    # The pending one is verified: cardiology is back at K, for aliases made from now on.
    verified = iev.PhysicianVerified(user_id=pending.user_id, specialty_code=CARDIOLOGY)
    await stack.publish(identity_event(verified, pending.user_id))
    assert (await counts(stack))[CARDIOLOGY] == TEST_K
    newest = (await stack.alias(doctors[1], pb.VISIBILITY_IDENTIFIED)).persona
    assert newest.specialty.code == CARDIOLOGY
    assert not (await stack.describe(later.alias_id))[later.alias_id].HasField("specialty")
    assert await stack.outbox(ANONYMITY_ALIASES) == []


async def test_names_are_stored_encrypted_and_shown_only_when_identified(stack: Stack) -> None:
    doctor = await stack.physician(full_name="Dr Octavia Canarybrook")
    named = (await stack.alias(doctor, pb.VISIBILITY_IDENTIFIED)).alias_id
    handle = (await stack.alias(doctor, pb.VISIBILITY_PSEUDONYMOUS)).alias_id
    personas = await stack.describe(named, handle)
    assert personas[named].display_name == "Dr Octavia Canarybrook"
    assert not personas[handle].HasField("display_name")
    [row] = await stack.rows("person_records")
    for value in row.values():
        blob = value if isinstance(value, bytes) else str(value).encode()
        assert b"Canarybrook" not in blob and doctor.user_id.encode() not in blob


async def test_account_suspension_bans_writing_and_leaves_every_alias_alone(
    stack: Stack,
) -> None:
    doctor = await stack.physician()
    aliases = await three_aliases(stack, doctor)
    before = await stack.describe(*aliases)
    suspended = identity_event(iev.PhysicianSuspended(user_id=doctor.user_id), doctor.user_id)
    await stack.publish(suspended)

    assert await stack.describe(*aliases) == before, "no alias changes its face"
    error = await rpc_error(stack.alias(doctor, pb.VISIBILITY_PSEUDONYMOUS))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert await stack.outbox(ANONYMITY_ALIASES) == [], "no alias is announced"
    assert [bool(r["suspended"]) for r in await stack.rows("user_keys")] == [True]

    # Redelivery of the same event (same id) is recognised and changes nothing.
    await stack.publish(suspended)
    assert stack.instance.events.consumers[0].skipped == 1

    verified = ipb.VERIFICATION_STATUS_VERIFIED
    reinstated = iev.PhysicianReinstated(user_id=doctor.user_id, verification=verified)
    await stack.publish(identity_event(reinstated, doctor.user_id))
    assert await stack.describe(*aliases) == before
    assert (await stack.alias(doctor, pb.VISIBILITY_PSEUDONYMOUS)).alias_id in aliases
    assert await stack.outbox(ANONYMITY_ALIASES) == []


async def test_erasure_orphans_every_alias_and_announces_nothing(stack: Stack) -> None:
    doctor = await stack.physician(full_name="Dr Ernestine Canaryhill")
    aliases = await three_aliases(stack, doctor)
    assert (await counts(stack))[CARDIOLOGY] == 1
    erased = identity_event(iev.PhysicianErased(user_id=doctor.user_id), doctor.user_id)
    await stack.publish(erased)

    personas = await stack.describe(*aliases)
    assert not any(p.HasField("display_name") for p in personas.values())
    assert all(p.verified_physician for p in personas.values()), "frozen faces stay"
    assert await stack.outbox(ANONYMITY_ALIASES) == []
    for table in ("user_keys", "person_records"):
        assert await stack.rows(table) == [], table
    # Tombstoned, not cleared: the rows look like any other, and open to nobody.
    rows = [r for r in await stack.rows("aliases") if r["alias_id"] in aliases]
    assert all(r["owner_sealed"] and r["slot"] for r in rows)
    vault = Vault(stack.instance.keys)
    owner_index = vault.owner_index(doctor.user_id)
    slots = {vault.slot(doctor.user_id, Visibility(r["visibility"]), r["scope_id"]) for r in rows}
    assert not slots & {r["slot"] for r in rows}
    stored = await stack.stored(*aliases)
    assert not any(vault.owns(alias, owner_index) for alias in stored.values())
    assert await counts(stack) == {CARDIOLOGY: 0}
    # EraseUser afterwards (or a redelivery) finds nobody.
    again = await stack.anonymity.EraseUser(
        pb.EraseUserRequest(user_id=doctor.user_id), metadata=doctor.metadata
    )
    assert again.orphaned_alias_count == 0
    await stack.publish(erased)
    assert await stack.outbox(ANONYMITY_ALIASES) == []


async def test_redelivered_verification_counts_once(stack: Stack) -> None:
    doctor = await stack.physician(specialty=DERMATOLOGY, verified=False)
    event = identity_event(
        iev.PhysicianVerified(user_id=doctor.user_id, specialty_code=DERMATOLOGY), doctor.user_id
    )
    for _ in range(3):
        await stack.publish(event)
    assert await counts(stack) == {DERMATOLOGY: 1}
    processed = [r for r in await stack.rows("processed_events") if r["event_id"] == event.id]
    assert [r["consumer_group"] for r in processed] == ["anonymity"]
    assert stack.instance.events.consumers[0].skipped == 2


async def test_unknown_and_corrupt_events_do_not_stop_the_consumer(stack: Stack) -> None:
    doctor = await stack.physician(verified=False)
    unknown = identity_event(ipb.ListSpecialtiesRequest(), doctor.user_id)
    corrupt = identity_event(iev.PhysicianVerified(user_id=doctor.user_id), doctor.user_id)
    corrupt = dataclasses.replace(corrupt, data=b"\xff\xff\xff")
    verified = identity_event(
        iev.PhysicianVerified(user_id=doctor.user_id, specialty_code=CARDIOLOGY), doctor.user_id
    )
    await stack.publish(unknown, corrupt, verified)
    consumer = stack.instance.events.consumers[0]
    assert consumer.dead_lettered == 1
    assert await counts(stack) == {CARDIOLOGY: 1}


async def test_alias_topic_carries_alias_ids_only(stack: Stack) -> None:
    """Canary: what content consumes names no user id, name or email, on the topic itself."""
    people = [await stack.physician(full_name=f"Dr Canary Topicus{i}") for i in range(2)]
    moderator = await stack.staff(Role.MODERATOR)
    aliases = [await three_aliases(stack, p) for p in people]
    before = stack.handled
    await stack.anonymity.ActOnAlias(
        pb.ActOnAliasRequest(alias_id=aliases[0][0], action=pb.ALIAS_ACTION_SUSPEND, reason="x"),
        metadata=moderator.metadata,
    )
    await stack.settled(before + 1)  # identity's PhysicianSuspended came back
    for alias in (*aliases[0][1:], *aliases[1]):
        for action in (pb.ALIAS_ACTION_HIDE, pb.ALIAS_ACTION_UNHIDE):
            await stack.anonymity.ActOnAlias(
                pb.ActOnAliasRequest(alias_id=alias, action=action, reason="x"),
                metadata=moderator.metadata,
            )
    for person in people:
        uid = person.user_id
        await stack.publish(identity_event(iev.PhysicianSuspended(user_id=uid), uid))
        await stack.publish(identity_event(iev.PhysicianErased(user_id=uid), uid))

    subscription = await stack.bus.subscribe(
        group=f"test-{uuid.uuid4().hex[:8]}", topics=[ANONYMITY_ALIASES]
    )
    expected = len(await stack.outbox(ANONYMITY_ALIASES))
    records = []
    async with asyncio.timeout(15):
        while len(records) < expected:
            records += await subscription.fetch(max_records=100, wait=0.5)
    await subscription.close()
    assert expected == 1 + 5 * 2, "one event per moderator action, none per person"
    needles = [s.encode() for p in people for s in (p.user_id, p.email, p.full_name)]
    for record in records:
        raw = b"".join([record.key or b"", record.value or b"", *(v for _, v in record.headers)])
        assert not [n for n in needles if n in raw], "personal data on anonymity.aliases.v1"
        assert record.event is not None and record.event.key == record.key.decode()  # type: ignore[union-attr]
