"""Alias events in (decoding, what each one does) and post events out (what they carry)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from google.protobuf.wrappers_pb2 import StringValue

from consilium.events.v1 import anonymity_events_pb2 as apb
from consilium.events.v1 import content_events_pb2 as cpb
from plumbing.errors import InvalidArgument
from plumbing.events.envelope import Event, MalformedEvent, new_event
from plumbing.events.topics import ANONYMITY_ALIASES, CONTENT_POSTS
from services.content.adapters.alias_events import alias_change_from
from services.content.adapters.post_events import comment_created, post_created
from services.content.aliases import AliasChange, apply_alias_change
from services.content.domain.posts import Comment, Post, PostKind
from services.content.ports import ContentRepository

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def alias_event(message: Any) -> Event:
    return new_event(message, topic=ANONYMITY_ALIASES, key="als_a", source="/consilium/anonymity")


class FakeAliasState:
    """The two repository methods alias changes use, recording their calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    async def set_aliases_hidden(
        self, alias_ids: Sequence[str], hidden: bool, now: datetime
    ) -> tuple[int, int]:
        self.calls.append(("hidden", (list(alias_ids), hidden)))
        return 0, 0

    async def mark_orphaned(self, alias_id: str, now: datetime) -> bool:
        self.calls.append(("orphaned", alias_id))
        return True


@pytest.mark.parametrize(
    ("message", "change"),
    [
        (apb.AliasSuspended(alias_id="als_a"), AliasChange.SUSPENDED),
        (apb.AliasReinstated(alias_id="als_a"), AliasChange.REINSTATED),
        (apb.AliasOrphaned(alias_id="als_a"), AliasChange.ORPHANED),
    ],
)
def test_each_alias_event_type_maps_to_its_change(message: Any, change: AliasChange) -> None:
    assert alias_change_from(alias_event(message)) == ("als_a", change)


def test_other_types_are_not_alias_changes_and_corrupt_payloads_are_malformed() -> None:
    assert alias_change_from(alias_event(StringValue(value="x"))) is None
    corrupt = alias_event(apb.AliasSuspended(alias_id="als_a"))
    with pytest.raises(MalformedEvent):
        alias_change_from(replace(corrupt, data=b"\xff\xff\xff\xff"))


@pytest.mark.parametrize(
    ("change", "call"),
    [
        (AliasChange.SUSPENDED, ("hidden", (["als_a"], True))),
        (AliasChange.REINSTATED, ("hidden", (["als_a"], False))),
        (AliasChange.ORPHANED, ("orphaned", "als_a")),
    ],
)
async def test_alias_changes_hide_show_or_orphan(change: AliasChange, call: object) -> None:
    repo = FakeAliasState()
    await apply_alias_change(cast(ContentRepository, repo), "als_a", change, NOW)
    assert repo.calls == [call]


@pytest.mark.parametrize("alias_id", ["", "usr_0000000000", "has space", "a@b"])
async def test_an_id_that_cannot_be_an_alias_is_refused(alias_id: str) -> None:
    repo = FakeAliasState()
    with pytest.raises(InvalidArgument):
        await apply_alias_change(cast(ContentRepository, repo), alias_id, AliasChange.ORPHANED, NOW)
    assert repo.calls == []


def test_post_and_comment_events_carry_ids_only_keyed_by_post() -> None:
    post = Post(
        post_id="pst_1",
        kind=PostKind.POLL,
        community_id="lounge-careers",
        thread_scope_id="scp_1",
        author_alias_id="als_author",
        title="A title nobody should find in an event",
        body="A body nobody should find in an event",
        created_at=NOW,
        poll_options=("Yes", "No"),
        request_id="req-1",
    )
    comment = Comment("cmt_1", "pst_1", "cmt_0", "als_commenter", "A reply body", NOW, "req-2")
    created = post_created(post)
    commented = comment_created(comment, "als_author", "als_parent")
    assert (created.topic, created.key, created.source) == (
        CONTENT_POSTS,
        "pst_1",
        "/consilium/content",
    )
    assert (commented.topic, commented.key) == (CONTENT_POSTS, "pst_1")
    payload = created.decode(cpb.PostCreated)
    assert (payload.post_id, payload.community_id, payload.author_alias_id) == (
        "pst_1",
        "lounge-careers",
        "als_author",
    )
    assert payload.created_at.ToDatetime(tzinfo=UTC) == NOW
    answered = commented.decode(cpb.CommentCreated)
    assert (answered.parent_id, answered.post_author_alias_id, answered.parent_author_alias_id) == (
        "cmt_0",
        "als_author",
        "als_parent",
    )
    for event in (created, commented):
        for text in (b"body", b"title", b"req-", b"scp_1", b"Yes"):
            assert text not in event.data
