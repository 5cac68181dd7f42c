"""A reader of anonymity's database (and of content's topic) tries to link aliases through
people's notification and activity indexes.

The reader sees every row of `index_entries` after every content event, knows which event
caused which rows (it reads the topic too), but holds no key. If a reply to oneself wrote fewer
rows than a reply to someone else, counting rows would tell that the replying alias and the
post's author alias share an owner; if rows carried an owner, alias or user id, or differed in
length by kind, they could be grouped. Erasure must not delete or rewrite one person's rows
together either (that would group them after the fact). Written first against an index with no
decoys, where a self-reply wrote 1 row and a reply to another person 2.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from anonymity_harness import Person, Stack, identity_event

from consilium.anonymity.v1 import anonymity_pb2 as pb
from consilium.events.v1 import identity_events_pb2 as iev
from services.anonymity.index_feed import CaseSolved, CommentWritten, IndexFeed, PostWritten
from services.anonymity.vault import Vault

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


async def rows(stack: Stack) -> dict[str, bytes]:
    return {r["row_key"]: bytes(r["sealed"]) for r in await stack.rows("index_entries")}


class Observer:
    """Applies content events the way the consumer does and notes the rows each one adds."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.feed = IndexFeed(Vault(stack.instance.keys))
        self.added: list[int] = []

    async def apply(self, event: PostWritten | CommentWritten | CaseSolved) -> None:
        before = await rows(self.stack)
        async with self.stack.instance.store.transaction() as repo:
            if isinstance(event, PostWritten):
                await self.feed.post_written(repo, event)
            elif isinstance(event, CaseSolved):
                await self.feed.case_solved(repo, event)
            else:
                await self.feed.comment_written(repo, event)
        after = await rows(self.stack)
        assert set(before) <= set(after) and all(after[k] == v for k, v in before.items()), (
            "an event rewrote or removed earlier rows"
        )
        self.added.append(len(after) - len(before))


async def alias(stack: Stack, person: Person, visibility: int, scoped: bool = False) -> str:
    scope = await stack.scope(person) if scoped else ""
    return (await stack.alias(person, visibility, scope)).alias_id


def comment(number: int, post: str, writer: str, post_author: str, **parent: Any) -> CommentWritten:
    return CommentWritten(
        comment_id=f"cmt_{number:020d}",
        post_id=post,
        parent_id=parent.get("parent_id", ""),
        author_alias_id=writer,
        post_author_alias_id=post_author,
        parent_author_alias_id=parent.get("parent_author", ""),
        created_at=NOW,
    )


async def test_rows_per_event_do_not_depend_on_who_owns_the_aliases(stack: Stack) -> None:
    alice, bob = await stack.physician(), await stack.physician()
    alice_named = await alias(stack, alice, pb.VISIBILITY_PSEUDONYMOUS)
    alice_thread = await alias(stack, alice, pb.VISIBILITY_ANONYMOUS, scoped=True)
    bob_thread = await alias(stack, bob, pb.VISIBILITY_ANONYMOUS, scoped=True)
    observer = Observer(stack)
    post = "pst_00000000000000000001"

    await observer.apply(PostWritten(post, alice_named, NOW))
    # Top-level replies: by the author's other alias, then by someone else.
    await observer.apply(comment(1, post, alice_thread, alice_named))
    await observer.apply(comment(2, post, bob_thread, alice_named))
    # Replies to a comment: to oneself, to the post's author's own comment, to another.
    mine = {"parent_id": "cmt_00000000000000000001", "parent_author": alice_thread}
    theirs = {"parent_id": "cmt_00000000000000000002", "parent_author": bob_thread}
    await observer.apply(comment(3, post, alice_named, alice_named, **mine))
    await observer.apply(comment(4, post, bob_thread, alice_named, **mine))
    await observer.apply(comment(5, post, alice_thread, alice_named, **theirs))
    await observer.apply(comment(6, post, bob_thread, alice_named, **theirs))
    # An alias nobody knows (content's own test data, or a later erasure).
    await observer.apply(comment(7, post, "als_unknown000000000000", alice_named))

    # A post: the author's item. A comment: the writer's item, the post author's notice, the
    # parent author's notice (replies to a comment only) and the writer as a follower.
    assert observer.added == [1, 3, 3, 4, 4, 4, 4, 3]

    stored = await rows(stack)
    assert len({len(blob) for blob in stored.values()}) == 1, "lengths tell kinds or decoys apart"
    secrets = [alice.user_id, bob.user_id, alice_named, alice_thread, bob_thread, post]
    vault = Vault(stack.instance.keys)
    secrets += [vault.owner_index(alice.user_id), vault.owner_index(bob.user_id)]
    for key, blob in stored.items():
        assert len(key) == 64 and int(key, 16) >= 0
        for secret in secrets:
            assert secret not in key and secret.encode() not in blob


async def test_erasure_leaves_a_persons_rows_as_they_were(stack: Stack) -> None:
    alice, bob = await stack.physician(), await stack.physician()
    alice_named = await alias(stack, alice, pb.VISIBILITY_PSEUDONYMOUS)
    bob_thread = await alias(stack, bob, pb.VISIBILITY_ANONYMOUS, scoped=True)
    observer = Observer(stack)
    post = "pst_00000000000000000002"
    await observer.apply(PostWritten(post, alice_named, NOW))
    await observer.apply(comment(1, post, bob_thread, alice_named))
    before = await rows(stack)

    await stack.publish(identity_event(iev.PhysicianErased(user_id=alice.user_id), alice.user_id))

    assert await rows(stack) == before, "erasure grouped a person's rows by touching them"
    # Shredded all the same: with the data key gone, alice's index is empty to everyone.
    reply = await stack.anonymity.ListNotifications(
        pb.ListNotificationsRequest(user_id=bob.user_id), metadata=bob.metadata
    )
    assert reply.total_count == 0  # bob was told nothing: his comment answered alice
    async with stack.instance.store.transaction() as repo:
        assert (
            await repo.get_user_key(Vault(stack.instance.keys).owner_index(alice.user_id)) is None
        )


async def notices(stack: Stack, person: Person) -> list[tuple[int, str]]:
    reply = await stack.anonymity.ListNotifications(
        pb.ListNotificationsRequest(user_id=person.user_id), metadata=person.metadata
    )
    return [(e.kind, e.comment_id) for e in reply.entries]


async def test_a_solved_case_tells_each_commenter_once_in_rows_that_link_nobody(
    stack: Stack,
) -> None:
    alice, bob, carol = [await stack.physician() for _ in range(3)]
    author = await alias(stack, alice, pb.VISIBILITY_PSEUDONYMOUS)
    alice_thread = await alias(stack, alice, pb.VISIBILITY_ANONYMOUS, scoped=True)
    bob_thread = await alias(stack, bob, pb.VISIBILITY_ANONYMOUS, scoped=True)
    bob_named = await alias(stack, bob, pb.VISIBILITY_PSEUDONYMOUS)
    carol_thread = await alias(stack, carol, pb.VISIBILITY_ANONYMOUS, scoped=True)
    observer = Observer(stack)
    post = "pst_00000000000000000003"
    await observer.apply(PostWritten(post, author, NOW))
    # Bob comments twice under two aliases, Carol once, Alice (the author) once herself.
    for number, writer in enumerate((bob_thread, bob_named, carol_thread, alice_thread), 1):
        await observer.apply(comment(number, post, writer, author))
    before = {p.user_id: await notices(stack, p) for p in (alice, bob, carol)}

    await observer.apply(CaseSolved(post, author, NOW))

    # One row per follower row (4 comments), whoever is behind them: Bob's second comment and
    # Alice's own are decoys, but a reader cannot tell which.
    assert observer.added[-1] == 4
    solved = pb.ENTRY_KIND_CASE_SOLVED
    for person, told in ((alice, 0), (bob, 1), (carol, 1)):
        new = (await notices(stack, person))[
            : len(await notices(stack, person)) - len(before[person.user_id])
        ]
        assert [kind for kind, _ in new] == [solved] * told, person.user_id
