"""The read-only path (store.reading()) answers exactly what a unit of work reads."""

from __future__ import annotations

from anonymity_harness import Stack

from consilium.anonymity.v1 import anonymity_pb2 as pb
from services.anonymity.domain.aliases import Visibility
from services.anonymity.vault import Vault


async def test_reading_returns_the_rows_a_transaction_reads(stack: Stack) -> None:
    person = await stack.physician()
    thread = await stack.scope(person)
    named = (await stack.alias(person, pb.VISIBILITY_IDENTIFIED)).alias_id
    anonymous = (await stack.alias(person, pb.VISIBILITY_ANONYMOUS, thread)).alias_id
    vault = Vault(stack.instance.keys)
    slot = vault.slot(person.user_id, Visibility.ANONYMOUS, thread)
    index = vault.owner_index(person.user_id)
    asked = [named, anonymous, "al_" + "0" * 26]

    async with stack.instance.store.transaction() as repo:
        by_id = await repo.get_aliases(asked)
        by_slot = await repo.find_by_slots([slot, "no such slot"])
        keys = await repo.get_user_keys([index])
    async with stack.instance.store.reading() as reader:
        assert await reader.get_aliases(asked) == by_id
        assert await reader.find_by_slots([slot, "no such slot"]) == by_slot
        assert await reader.alias_ids_by_slots([slot, "no such slot"]) == {slot: anonymous}
        assert await reader.get_user_keys([index]) == keys
        assert await reader.get_aliases([]) == {}

    assert set(by_id) == {named, anonymous}
    assert by_id[named].name_ciphertext is not None  # the whole row, display name sealed
    assert set(keys) == {index}
