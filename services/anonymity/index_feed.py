"""Fills people's sealed indexes from content's alias-keyed events, in a fixed pattern of rows.

A post adds one row: the author's activity entry. A comment adds three rows, four when it
answers a comment: the writer's activity entry, a notification for the post's author, one for
the parent comment's author, and the writer as a follower of the thread (sealed under the
service's key). A solved case adds one row per follower row of its thread: a CASE_SOLVED
notification for each person who commented, once each, never the author. An entry that is not
due (a reply to oneself, an alias whose owner was erased, a person told once already) is
written as a decoy instead, so the number and order of rows an event writes never depend on
who owns its aliases: a reader of anonymity's database and of content's topic learns nothing
about which aliases share an owner. Nothing here queues an event or logs an owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.anonymity.domain.aliases import StoredAlias
from services.anonymity.domain.crypto import CryptoError
from services.anonymity.domain.inbox import (
    Entry,
    EntryKind,
    PersonIndex,
    Stream,
    count,
    decoy,
)
from services.anonymity.ports import AliasRepository, IndexRepository
from services.anonymity.vault import Vault


@dataclass(frozen=True, slots=True)
class Owner:
    """The person behind an alias, as far as their index goes: blind index and index keys."""

    owner_index: str
    index: PersonIndex
    alias: StoredAlias


@dataclass(frozen=True, slots=True)
class PostWritten:
    post_id: str
    author_alias_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CaseSolved:
    post_id: str
    author_alias_id: str
    solved_at: datetime


@dataclass(frozen=True, slots=True)
class CommentWritten:
    comment_id: str
    post_id: str
    parent_id: str
    author_alias_id: str
    post_author_alias_id: str
    parent_author_alias_id: str
    created_at: datetime


async def owner_of(repo: AliasRepository, vault: Vault, alias_id: str) -> Owner | None:
    """The alias's owner, or None when there is nobody to tell (unknown alias, erased person).

    Reads the owner's key row without locking it: a lock would stamp the row (P2)."""
    if not alias_id:
        return None
    alias = (await repo.get_aliases([alias_id])).get(alias_id)
    if alias is None:
        return None
    try:
        owner_index = vault.owner_index_of(alias)
    except CryptoError:
        return None
    key = await repo.get_user_key(owner_index)
    if key is None:  # erased: the seal opens to an index nobody has
        return None
    return Owner(owner_index, PersonIndex(vault.data_key(key)), alias)


async def append(rows: IndexRepository, index: PersonIndex, stream: Stream, entry: Entry) -> None:
    """Adds `entry` at the end of the person's `stream` (the next free position)."""
    position = await count(lambda p: rows.has(index.row_key(stream, p))) + 1
    while True:
        row_key = index.row_key(stream, position)
        if await rows.add(row_key, index.seal(row_key, entry)):
            return
        position += 1  # a concurrent writer took it


async def write_decoy(rows: IndexRepository) -> None:
    await rows.add(*decoy())


class IndexFeed:
    """Applies content's PostCreated and CommentCreated to the people they concern."""

    def __init__(self, vault: Vault) -> None:
        self._vault = vault

    async def post_written(self, repo: AliasRepository, post: PostWritten) -> None:
        author = await owner_of(repo, self._vault, post.author_alias_id)
        if author is None:
            await write_decoy(repo.index)
            return
        entry = Entry(
            EntryKind.POST, post.post_id, "", post.created_at, author.alias.visibility.value
        )
        await append(repo.index, author.index, Stream.ACTIVITY, entry)

    async def comment_written(self, repo: AliasRepository, comment: CommentWritten) -> None:
        writer = await owner_of(repo, self._vault, comment.author_alias_id)
        post_author = await owner_of(repo, self._vault, comment.post_author_alias_id)
        parent_author = (
            await owner_of(repo, self._vault, comment.parent_author_alias_id)
            if comment.parent_id
            else None
        )
        rows = repo.index
        at = comment.created_at

        # Row 1: the writer's own item.
        if writer is None:
            await write_decoy(rows)
        else:
            visibility = writer.alias.visibility.value
            entry = Entry(EntryKind.COMMENT, comment.post_id, comment.comment_id, at, visibility)
            await append(rows, writer.index, Stream.ACTIVITY, entry)

        # Row 2: the post's author hears of a reply, unless they wrote it, or they are also
        # the parent's author (then row 3 tells them, once, of the reply to their comment).
        told = {writer.owner_index} if writer is not None else set()
        parent_owner = parent_author.owner_index if parent_author is not None else None
        if (
            post_author is None
            or post_author.owner_index in told
            or post_author.owner_index == parent_owner
        ):
            await write_decoy(rows)
        else:
            entry = Entry(EntryKind.REPLY_TO_POST, comment.post_id, comment.comment_id, at)
            await append(rows, post_author.index, Stream.NOTIFICATIONS, entry)

        # Row 3, only for a reply to a comment (visible on the topic anyway).
        if comment.parent_id:
            if parent_author is None or parent_author.owner_index in told:
                await write_decoy(rows)
            else:
                entry = Entry(EntryKind.REPLY_TO_COMMENT, comment.post_id, comment.comment_id, at)
                await append(rows, parent_author.index, Stream.NOTIFICATIONS, entry)

        # Last row: the writer follows the thread (a decoy-like row when nobody is behind it).
        followers = self._vault.followers()
        name = _followers_of(comment.post_id)
        position = await count(lambda p: rows.has(followers.list_key(name, p))) + 1
        follower = writer.owner_index if writer is not None else _NOBODY
        while True:
            row_key = followers.list_key(name, position)
            if await rows.add(row_key, followers.seal_text(row_key, follower)):
                break
            position += 1

    async def case_solved(self, repo: AliasRepository, solved: CaseSolved) -> None:
        """Tells every person who commented on the case, once, never its author."""
        author = await owner_of(repo, self._vault, solved.author_alias_id)
        followers = self._vault.followers()
        name = _followers_of(solved.post_id)
        rows = repo.index
        total = await count(lambda p: rows.has(followers.list_key(name, p)))
        keys = [followers.list_key(name, p) for p in range(1, total + 1)]
        found = await rows.get(keys)
        told = {author.owner_index} if author is not None else set()
        for row_key in keys:
            owner_index = followers.open_text(row_key, found[row_key])
            key = None
            if owner_index != _NOBODY and owner_index not in told:
                key = await repo.get_user_key(owner_index)
            if key is None:  # the author, someone told already, nobody, or erased
                await write_decoy(rows)
                continue
            told.add(owner_index)
            entry = Entry(EntryKind.CASE_SOLVED, solved.post_id, "", solved.solved_at)
            index = PersonIndex(self._vault.data_key(key))
            await append(rows, index, Stream.NOTIFICATIONS, entry)


#: What a follower row holds when no person is behind the comment (same length as an index).
_NOBODY = "0" * 64


def _followers_of(post_id: str) -> str:
    return f"followers:{post_id}"
