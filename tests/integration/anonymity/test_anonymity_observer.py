"""An observer diffs personas around person-level changes and tries to group aliases (finding 2).

Anyone may poll `BatchDescribeAliases` (the gateway's `author`), and content hides what the
alias events tell it to. So the attack is: snapshot every persona, let something happen to
one person (suspension, reinstatement, a specialty change, erasure), snapshot again, and
read the aliases whose public face changed, or that an alias event named, as one person's.
Personas are frozen per alias and person-level changes announce no alias, so no change
names more than one alias; erasure only drops the one IDENTIFIED alias's display name.
"""

from __future__ import annotations

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
from consilium.events.v1 import identity_events_pb2 as iev
from consilium.identity.v1 import identity_pb2 as ipb
from plumbing.events.topics import ANONYMITY_ALIASES


async def _aliases(stack: Stack, person: Person) -> list[str]:
    made = [
        await stack.alias(person, pb.VISIBILITY_IDENTIFIED),
        await stack.alias(person, pb.VISIBILITY_PSEUDONYMOUS),
    ]
    for _ in range(2):
        made.append(await stack.alias(person, pb.VISIBILITY_ANONYMOUS, await stack.scope(person)))
    return [m.alias_id for m in made]


async def _faces(stack: Stack, alias_ids: list[str]) -> dict[str, bytes]:
    personas = await stack.describe(*alias_ids)
    assert set(personas) == set(alias_ids)
    return {a: p.SerializeToString(deterministic=True) for a, p in personas.items()}


async def test_no_person_level_change_alters_more_than_one_alias(stack: Stack) -> None:
    cardiologists = [await stack.physician(specialty=CARDIOLOGY) for _ in range(TEST_K)]
    target = cardiologists[0]
    everyone = {p.user_id: await _aliases(stack, p) for p in cardiologists}
    mine = everyone[target.user_id]
    alias_ids = [a for ids in everyone.values() for a in ids]
    before = await _faces(stack, alias_ids)
    assert (await stack.describe(mine[1]))[mine[1]].specialty.code == CARDIOLOGY
    outbox = len(await stack.outbox(ANONYMITY_ALIASES))

    uid = target.user_id
    verified = ipb.VERIFICATION_STATUS_VERIFIED
    changes = {
        # Also drops cardiology below K: frozen personas keep the specialty they were made with.
        "suspension": iev.PhysicianSuspended(user_id=uid),
        "reinstatement": iev.PhysicianReinstated(user_id=uid, verification=verified),
        "specialty change": iev.PhysicianSpecialtyChanged(
            user_id=uid, specialty_code=DERMATOLOGY, previous_specialty_code=CARDIOLOGY
        ),
        "re-verification": iev.PhysicianVerified(user_id=uid, specialty_code=DERMATOLOGY),
    }
    for step, change in changes.items():
        await stack.publish(identity_event(change, uid))
        after = await _faces(stack, alias_ids)
        changed = [a for a in alias_ids if after[a] != before[a]]
        assert changed == [], f"{step} changed the public face of {len(changed)} aliases"
        assert len(await stack.outbox(ANONYMITY_ALIASES)) == outbox, f"{step} announced aliases"

    await stack.publish(identity_event(iev.PhysicianErased(user_id=uid), uid))
    after = await stack.describe(*alias_ids)
    changed = [a for a in alias_ids if after[a].SerializeToString(deterministic=True) != before[a]]
    assert changed == [mine[0]], "erasure may change the IDENTIFIED alias only"
    named_before = pb.Persona.FromString(before[mine[0]])
    assert named_before.display_name == target.full_name
    assert not after[mine[0]].HasField("display_name")
    named_before.ClearField("display_name")
    assert after[mine[0]] == named_before, "erasure removes the display name and nothing else"
    assert len(await stack.outbox(ANONYMITY_ALIASES)) == outbox, "erasure announced aliases"


async def test_suspended_person_gets_no_alias_for_writing_and_keeps_their_history(
    stack: Stack,
) -> None:
    doctor = await stack.physician()
    mine = await _aliases(stack, doctor)
    thread = await stack.scope(doctor)
    await stack.suspend_account(doctor)

    for visibility, scope in (
        (pb.VISIBILITY_IDENTIFIED, ""),
        (pb.VISIBILITY_PSEUDONYMOUS, ""),
        (pb.VISIBILITY_ANONYMOUS, thread),  # a new alias
    ):
        error = await rpc_error(stack.alias(doctor, visibility, scope))
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    personas = await stack.describe(*mine)
    assert all(p.state == pb.ALIAS_STATE_ACTIVE for p in personas.values())
    assert all(p.verified_physician for p in personas.values())
