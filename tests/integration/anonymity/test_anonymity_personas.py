"""Personas over real gRPC: badge, k-anonymous specialty, names only for IDENTIFIED; frozen."""

from __future__ import annotations

from anonymity_harness import CARDIOLOGY, GENETICS, TEST_K, Stack
from sqlalchemy import text

from consilium.anonymity.v1 import anonymity_pb2 as pb
from services.anonymity.app import freeze_existing_personas


async def test_k_threshold_hides_rare_and_shows_common_specialty(stack: Stack) -> None:
    cardiologists = [await stack.physician(specialty=CARDIOLOGY) for _ in range(TEST_K)]
    geneticist = await stack.physician(specialty=GENETICS)
    common = (await stack.alias(cardiologists[0])).alias_id
    rare = (await stack.alias(geneticist)).alias_id

    personas = await stack.describe(common, rare)
    assert personas[common].specialty.code == CARDIOLOGY
    assert personas[common].specialty.name == "Cardiovascular Disease"
    assert personas[common].handle.startswith("Anonymous Cardiologist ")
    assert not personas[rare].HasField("specialty")
    assert personas[rare].handle.startswith("Anonymous Physician ")
    assert "Genetic" not in personas[rare].handle
    assert personas[common].verified_physician and personas[rare].verified_physician


async def test_specialty_is_checked_once_when_the_alias_is_made(stack: Stack) -> None:
    doctors = [await stack.physician(specialty=CARDIOLOGY) for _ in range(TEST_K)]
    alias = (await stack.alias(doctors[0])).alias_id
    assert (await stack.describe(alias))[alias].HasField("specialty")
    await stack.suspend_account(doctors[-1])
    # Below K now: the existing alias keeps its face, a new one does not disclose it.
    persona = (await stack.describe(alias))[alias]
    assert persona.specialty.code == CARDIOLOGY
    assert persona.handle.startswith("Anonymous Cardiologist ")
    thread = await stack.scope(doctors[0])
    fresh = (await stack.alias(doctors[0], pb.VISIBILITY_ANONYMOUS, thread)).persona
    assert not fresh.HasField("specialty") and fresh.handle.startswith("Anonymous Physician ")


async def test_handles_are_stable_and_a_suspended_owner_changes_no_persona(stack: Stack) -> None:
    doctor = await stack.physician(full_name="Dr Zebedee Canarywood")
    alias = (await stack.alias(doctor, pb.VISIBILITY_IDENTIFIED)).alias_id
    before = (await stack.describe(alias))[alias]
    assert before.handle == (await stack.describe(alias))[alias].handle
    assert before.display_name == "Dr Zebedee Canarywood"
    assert "Zebedee" not in before.handle and "Canarywood" not in before.handle
    await stack.suspend_account(doctor)
    assert (await stack.describe(alias))[alias] == before


async def test_startup_freezes_aliases_made_before_freezing_as_they_are(stack: Stack) -> None:
    doctors = [await stack.physician(specialty=CARDIOLOGY) for _ in range(TEST_K)]
    named = (await stack.alias(doctors[0], pb.VISIBILITY_IDENTIFIED)).alias_id
    handle = (await stack.alias(doctors[1], pb.VISIBILITY_PSEUDONYMOUS)).alias_id
    faces = await stack.describe(named, handle)
    # As the rows were before migration 0004: no frozen persona, no sealed name.
    async with stack.instance.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE aliases SET persona_handle = NULL, persona_verified = NULL, "
                "persona_specialty_code = NULL, persona_specialty_name = NULL, "
                "name_ciphertext = NULL"
            )
        )
    unfrozen = await stack.describe(named, handle)
    assert not unfrozen[named].HasField("display_name"), "unfrozen rows disclose nothing"
    assert not unfrozen[handle].verified_physician

    assert await freeze_existing_personas(stack.instance.service) == 2
    assert await stack.describe(named, handle) == faces, "frozen as they were"
    assert await freeze_existing_personas(stack.instance.service) == 0, "idempotent"
    # Frozen now: a later change of the owner no longer reaches them.
    await stack.suspend_account(doctors[0])
    assert await stack.describe(named, handle) == faces
    rows = {r["alias_id"]: r for r in await stack.rows("aliases")}
    assert b"Canary" not in rows[named]["name_ciphertext"]
