"""Personas over real gRPC: badge, k-anonymous specialty, names only for IDENTIFIED."""

from __future__ import annotations

from anonymity_harness import CARDIOLOGY, GENETICS, TEST_K, Stack

from consilium.anonymity.v1 import anonymity_pb2 as pb


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


async def test_specialty_disappears_when_the_count_drops_below_k(stack: Stack) -> None:
    doctors = [await stack.physician(specialty=CARDIOLOGY) for _ in range(TEST_K)]
    alias = (await stack.alias(doctors[0])).alias_id
    assert (await stack.describe(alias))[alias].HasField("specialty")
    await stack.suspend_account(doctors[-1])
    persona = (await stack.describe(alias))[alias]
    assert not persona.HasField("specialty")
    assert persona.handle.startswith("Anonymous Physician ")


async def test_handles_are_stable_and_suspended_owners_lose_the_badge(stack: Stack) -> None:
    doctor = await stack.physician(full_name="Dr Zebedee Canarywood")
    alias = (await stack.alias(doctor, pb.VISIBILITY_IDENTIFIED)).alias_id
    before = (await stack.describe(alias))[alias]
    assert before.handle == (await stack.describe(alias))[alias].handle
    assert before.display_name == "Dr Zebedee Canarywood"
    assert "Zebedee" not in before.handle and "Canarywood" not in before.handle
    await stack.suspend_account(doctor)
    after = (await stack.describe(alias))[alias]
    assert not after.verified_physician
    assert after.handle.split()[-1] == before.handle.split()[-1]
