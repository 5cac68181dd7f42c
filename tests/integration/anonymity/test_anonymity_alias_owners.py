"""CheckAliasOwners: many people asking at once whether they own one alias, each by own token."""

from __future__ import annotations

import grpc
from anonymity_harness import Person, Stack, rpc_error

from consilium.anonymity.v1 import anonymity_pb2 as pb


def _token(person: Person) -> str:
    (_, value), *_ = person.metadata
    return str(value).partition(" ")[2]


async def test_only_the_holder_of_the_owners_token_is_an_owner(stack: Stack) -> None:
    alice, bob, carol = [await stack.physician() for _ in range(3)]
    thread = await stack.scope(alice)
    alias = (await stack.alias(alice, pb.VISIBILITY_ANONYMOUS, thread)).alias_id
    tokens = [_token(bob), _token(alice), _token(carol), _token(alice)]

    reply = await stack.anonymity.CheckAliasOwners(
        pb.CheckAliasOwnersRequest(alias_id=alias, access_tokens=tokens)
    )
    assert list(reply.owner_positions) == [1, 3]

    # Nobody owns an unknown alias, and an answer needs the owner's own token.
    unknown = await stack.anonymity.CheckAliasOwners(
        pb.CheckAliasOwnersRequest(alias_id="als_" + "0" * 26, access_tokens=tokens)
    )
    assert list(unknown.owner_positions) == []


async def test_a_forged_or_foreign_token_learns_nothing(stack: Stack) -> None:
    alice, mallory = await stack.physician(), await stack.physician()
    alias = (await stack.alias(alice, pb.VISIBILITY_PSEUDONYMOUS)).alias_id
    header, payload, signature = _token(alice).split(".")
    # Alice's claims under a broken signature: a caller guessing who wrote it gets no yes.
    forged = f"{header}.{payload}.{signature[::-1]}"
    reply = await stack.anonymity.CheckAliasOwners(
        pb.CheckAliasOwnersRequest(alias_id=alias, access_tokens=[forged, _token(mallory), ""])
    )
    assert list(reply.owner_positions) == []


async def test_at_most_500_tokens_a_call(stack: Stack) -> None:
    alice = await stack.physician()
    alias = (await stack.alias(alice, pb.VISIBILITY_PSEUDONYMOUS)).alias_id
    error = await rpc_error(
        stack.anonymity.CheckAliasOwners(
            pb.CheckAliasOwnersRequest(alias_id=alias, access_tokens=[_token(alice)] * 501)
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
