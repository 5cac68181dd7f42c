"""Aliases over real gRPC: one per visibility or thread, unlinkable, owned, listed."""

from __future__ import annotations

import grpc
import pytest
from anonymity_harness import DERMATOLOGY, Stack, rpc_error

from consilium.anonymity.v1 import anonymity_pb2 as pb


async def test_same_thread_same_alias_other_thread_unlinkable(stack: Stack) -> None:
    doctor = await stack.physician()
    first_thread, second_thread = await stack.scope(doctor), await stack.scope(doctor)
    post = await stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, first_thread)
    comment = await stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, first_thread)
    elsewhere = await stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, second_thread)

    assert comment.alias_id == post.alias_id  # readers can tell the original poster
    assert elsewhere.alias_id != post.alias_id
    rows = {r["alias_id"]: r for r in await stack.rows("aliases")}
    one, two = rows[post.alias_id], rows[elsewhere.alias_id]
    for column in ("slot", "owner_sealed", "owner_ciphertext", "scope_id"):
        assert one[column] != two[column], column
    # The only columns two aliases of one person share are ones every alias may share.
    shared = {c for c in one if one[c] == two[c]}
    # (The frozen persona's badge and specialty are public, shared by many people's aliases.)
    assert shared <= {
        "visibility",
        "state",
        "owner_seal_kid",
        "created_at",
        "persona_verified",
        "persona_specialty_code",
        "persona_specialty_name",
        "name_ciphertext",  # None: neither alias is IDENTIFIED
    }


async def test_identified_and_pseudonymous_are_stable_per_person(stack: Stack) -> None:
    doctor = await stack.physician(full_name="Dr Amara Canaryson")
    named = await stack.alias(doctor, pb.VISIBILITY_IDENTIFIED)
    handle = await stack.alias(doctor, pb.VISIBILITY_PSEUDONYMOUS)
    assert (await stack.alias(doctor, pb.VISIBILITY_IDENTIFIED)).alias_id == named.alias_id
    assert (await stack.alias(doctor, pb.VISIBILITY_PSEUDONYMOUS)).alias_id == handle.alias_id
    assert named.alias_id != handle.alias_id
    assert named.persona.display_name == "Dr Amara Canaryson"
    assert not handle.persona.HasField("display_name")
    assert "Canaryson" not in handle.persona.handle
    assert named.alias_id.startswith("als_") and len(named.alias_id) == 30


async def test_two_people_in_one_thread_get_different_aliases(stack: Stack) -> None:
    alice, bob = await stack.physician(), await stack.physician()
    thread = await stack.scope(alice)
    a = await stack.alias(alice, pb.VISIBILITY_ANONYMOUS, thread)
    b = await stack.alias(bob, pb.VISIBILITY_ANONYMOUS, thread)
    assert a.alias_id != b.alias_id


async def test_who_may_get_an_alias(stack: Stack) -> None:
    doctor = await stack.physician()
    pending = await stack.physician(verified=False)
    thread = await stack.scope(doctor)

    error = await rpc_error(stack.alias(pending, pb.VISIBILITY_PSEUDONYMOUS))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    error = await rpc_error(
        stack.anonymity.GetOrCreateAlias(
            pb.GetOrCreateAliasRequest(
                user_id=pending.user_id, visibility=pb.VISIBILITY_PSEUDONYMOUS
            ),
            metadata=doctor.metadata,
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    error = await rpc_error(
        stack.anonymity.GetOrCreateAlias(
            pb.GetOrCreateAliasRequest(
                user_id=doctor.user_id, visibility=pb.VISIBILITY_PSEUDONYMOUS
            )
        )
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    error = await rpc_error(stack.alias(doctor, pb.VISIBILITY_UNSPECIFIED))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    error = await rpc_error(stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, "thr_" + "a" * 26))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = await rpc_error(stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, ""))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (await stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, thread)).alias_id


async def test_ownership_thread_aliases_and_own_list(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Listing scans alias rows in batches: make them small so the scan takes several.
    monkeypatch.setattr("services.anonymity.scan.SCAN_BATCH", 2)
    alice, bob = await stack.physician(), await stack.physician(specialty=DERMATOLOGY)
    read_only_thread = await stack.scope(bob)
    threads = [await stack.scope(alice) for _ in range(3)]
    mine = [(await stack.alias(alice, pb.VISIBILITY_ANONYMOUS, t)).alias_id for t in threads]
    mine.append((await stack.alias(alice, pb.VISIBILITY_PSEUDONYMOUS)).alias_id)
    theirs = (await stack.alias(bob, pb.VISIBILITY_PSEUDONYMOUS)).alias_id

    owned = await stack.anonymity.BatchCheckOwnership(
        pb.BatchCheckOwnershipRequest(user_id=alice.user_id, alias_ids=[*mine, theirs]),
        metadata=alice.metadata,
    )
    assert set(owned.owned_alias_ids) == set(mine)
    error = await rpc_error(
        stack.anonymity.BatchCheckOwnership(
            pb.BatchCheckOwnershipRequest(user_id=alice.user_id, alias_ids=mine),
            metadata=bob.metadata,
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED

    found = await stack.anonymity.BatchGetThreadAliases(
        pb.BatchGetThreadAliasesRequest(
            user_id=alice.user_id, scope_ids=[*threads, read_only_thread]
        ),
        metadata=alice.metadata,
    )
    assert {t.scope_id: t.alias_id for t in found.thread_aliases} == dict(
        zip(threads, mine[:3], strict=True)
    )

    first = await stack.anonymity.ListAliases(
        pb.ListAliasesRequest(user_id=alice.user_id, page_size=3), metadata=alice.metadata
    )
    rest = await stack.anonymity.ListAliases(
        pb.ListAliasesRequest(user_id=alice.user_id, page_size=3, page_token=first.next_page_token),
        metadata=alice.metadata,
    )
    listed = [a.persona.alias_id for a in (*first.aliases, *rest.aliases)]
    assert sorted(listed) == sorted(mine) and rest.next_page_token == ""
    assert listed[0] == mine[-1]  # newest first
    assert {a.scope_id for a in first.aliases if a.scope_id} <= set(threads)
    error = await rpc_error(
        stack.anonymity.ListAliases(
            pb.ListAliasesRequest(user_id=alice.user_id), metadata=bob.metadata
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_thread_aliases_answer_ownership_of_the_callers_own_aliases_only(
    stack: Stack,
) -> None:
    """One call for a page's viewer state (thread aliases and ownership) tells the caller
    about their own aliases only: never whose another alias is, never for another user id."""
    alice, bob = await stack.physician(), await stack.physician(specialty=DERMATOLOGY)
    thread = await stack.scope(bob)
    hers = (await stack.alias(alice, pb.VISIBILITY_ANONYMOUS, thread)).alias_id
    his = (await stack.alias(bob, pb.VISIBILITY_ANONYMOUS, thread)).alias_id
    his_handle = (await stack.alias(bob, pb.VISIBILITY_PSEUDONYMOUS)).alias_id

    found = await stack.anonymity.BatchGetThreadAliases(
        pb.BatchGetThreadAliasesRequest(
            user_id=alice.user_id, scope_ids=[thread], alias_ids=[hers, his, his_handle]
        ),
        metadata=alice.metadata,
    )
    assert [(t.scope_id, t.alias_id) for t in found.thread_aliases] == [(thread, hers)]
    assert list(found.owned_alias_ids) == [hers]
    # Asking in bob's name with alice's token: refused, nothing answered about bob's aliases.
    error = await rpc_error(
        stack.anonymity.BatchGetThreadAliases(
            pb.BatchGetThreadAliasesRequest(
                user_id=bob.user_id, scope_ids=[thread], alias_ids=[his, his_handle]
            ),
            metadata=alice.metadata,
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    # Without a token: unauthenticated, even for ownership alone.
    error = await rpc_error(
        stack.anonymity.BatchGetThreadAliases(
            pb.BatchGetThreadAliasesRequest(user_id=bob.user_id, alias_ids=[his])
        )
    )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    # The same limit as BatchCheckOwnership.
    error = await rpc_error(
        stack.anonymity.BatchGetThreadAliases(
            pb.BatchGetThreadAliasesRequest(
                user_id=alice.user_id, alias_ids=[f"als_{i:022d}" for i in range(501)]
            ),
            metadata=alice.metadata,
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_describe_reports_missing_ids(stack: Stack) -> None:
    doctor = await stack.physician()
    alias = (await stack.alias(doctor)).alias_id
    reply = await stack.anonymity.BatchDescribeAliases(
        pb.BatchDescribeAliasesRequest(alias_ids=[alias, "als_" + "b" * 26, "junk", alias])
    )
    assert [p.alias_id for p in reply.personas] == [alias]
    assert sorted(reply.missing_alias_ids) == sorted(["als_" + "b" * 26, "junk"])
