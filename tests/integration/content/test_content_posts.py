"""Posts over real gRPC: creating each kind, precise errors, idempotency, reads, solving cases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
from content_harness import CASE, ContentClient, alias, rpc_error, violations
from google.protobuf.timestamp_pb2 import Timestamp

from consilium.content.v1 import content_pb2 as pb
from consilium.content.v1 import types_pb2 as tpb


async def test_communities_are_seeded_and_listed_by_name(content: ContentClient) -> None:
    listed = (await content.stub.ListCommunities(pb.ListCommunitiesRequest())).communities
    names = [c.name for c in listed]
    assert names == sorted(names)
    ids = {c.community_id for c in listed}
    assert {"cardiology", "second-opinions", "lounge-humor", "lounge-politics"} <= ids
    assert {"lounge-burnout", "lounge-careers"} <= ids
    reply = await content.stub.BatchGetCommunities(
        pb.BatchGetCommunitiesRequest(community_ids=["cardiology", "nope", "cardiology"])
    )
    assert [c.name for c in reply.communities] == ["Cardiology"]
    assert list(reply.missing_community_ids) == ["nope"]


async def test_a_case_is_stored_with_its_facts_and_read_back(content: ContentClient) -> None:
    author = alias()
    created = await content.case(author_alias_id=author)
    assert created.post_id.startswith("pst_") and created.author_alias_id == author
    assert created.case.status == tpb.CASE_STATUS_OPEN
    got = (await content.stub.GetPost(pb.GetPostRequest(post_id=created.post_id))).post
    assert got == created
    assert got.case.age_band == tpb.AGE_BAND_OLDER_ADULT
    assert got.case.history == CASE.history and list(got.case.specialty_tags) == ["207RC0000X"]


async def test_discussions_and_polls_have_no_case(content: ContentClient) -> None:
    discussion = await content.post()
    poll = await content.poll()
    assert not discussion.HasField("case") and not poll.HasField("case")
    assert poll.kind == tpb.POST_KIND_POLL


async def test_bad_input_names_each_field(content: ContentClient) -> None:
    error = await rpc_error(
        content.stub.CreatePost(
            pb.CreatePostRequest(
                kind=tpb.POST_KIND_POLL,
                community_id="lounge-careers",
                thread_scope_id="scp_1",
                author_alias_id="usr_abcdefghijklmnopqrstuvwxyz",
                title="",
                poll_options=["only one"],
            )
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    found = violations(error)
    assert set(found) == {"author_alias_id"}
    assert "never a user id" in found["author_alias_id"]
    error = await rpc_error(content.post(kind=tpb.POST_KIND_POLL, title="", poll_options=["x"]))
    assert set(violations(error)) == {"title", "poll_options"}


async def test_an_unknown_community_is_refused(content: ContentClient) -> None:
    error = await rpc_error(content.post(community_id="no-such-place"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations(error)) == {"community_id"}


async def test_patient_identifiers_are_refused_naming_field_kind_and_position(
    content: ContentClient,
) -> None:
    history = "Seen 03/14/2021 at the ED; son's phone (617) 555-0199."
    bad_case = tpb.CaseInput()
    bad_case.CopyFrom(CASE)
    bad_case.history = history
    error = await rpc_error(content.case(case=bad_case, body="MRN 12345678 attached"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    found = violations(error)
    assert set(found) == {"body", "case.history"}
    assert "MEDICAL_RECORD_NUMBER" in found["body"]
    start = history.index("03/14")
    assert f"DATE) at characters {start}\u2013{start + 10}" in found["case.history"]
    assert "555-0199" not in error.details() and "12345678" not in str(found)
    feed = await content.stub.ListFeed(pb.ListFeedRequest())
    assert list(feed.posts) == []


async def test_a_retried_create_returns_the_first_post(content: ContentClient) -> None:
    author = alias()
    first = await content.post(author_alias_id=author, request_id="req-1")
    again = await content.post(author_alias_id=author, request_id="req-1", title="changed")
    assert again.post_id == first.post_id and again.title == first.title
    other = await content.post(author_alias_id=alias(), request_id="req-1")
    assert other.post_id != first.post_id


async def test_batch_get_posts_reports_missing_ids(content: ContentClient) -> None:
    one, two = await content.post(), await content.case()
    missing = "pst_" + "a" * 26
    reply = await content.stub.BatchGetPosts(
        pb.BatchGetPostsRequest(post_ids=[one.post_id, two.post_id, missing, one.post_id])
    )
    assert {p.post_id for p in reply.posts} == {one.post_id, two.post_id}
    assert list(reply.missing_post_ids) == [missing]
    error = await rpc_error(
        content.stub.BatchGetPosts(pb.BatchGetPostsRequest(post_ids=["x"] * 501))
    )
    assert set(violations(error)) == {"post_ids"}


async def test_get_post_errors(content: ContentClient) -> None:
    error = await rpc_error(content.stub.GetPost(pb.GetPostRequest(post_id="pst_" + "b" * 26)))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = await rpc_error(content.stub.GetPost(pb.GetPostRequest(post_id="42")))
    assert set(violations(error)) == {"post_id"}


async def test_only_the_author_alias_marks_a_case_solved(content: ContentClient) -> None:
    author = alias()
    case = await content.case(author_alias_id=author)
    denied = await rpc_error(
        content.stub.MarkCaseSolved(
            pb.MarkCaseSolvedRequest(post_id=case.post_id, author_alias_id=alias())
        )
    )
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    guarded = await rpc_error(
        content.stub.MarkCaseSolved(
            pb.MarkCaseSolvedRequest(
                post_id=case.post_id, author_alias_id=author, resolution="Email me: a@b.org"
            )
        )
    )
    assert set(violations(guarded)) == {"resolution"}
    solved = await content.stub.MarkCaseSolved(
        pb.MarkCaseSolvedRequest(
            post_id=case.post_id, author_alias_id=author, resolution="Started dapagliflozin 10 mg."
        )
    )
    assert solved.post.case.status == tpb.CASE_STATUS_SOLVED
    assert solved.post.case.resolution == "Started dapagliflozin 10 mg."
    assert solved.post.case.HasField("solved_at")
    got = await content.stub.GetPost(pb.GetPostRequest(post_id=case.post_id))
    assert got.post.case == solved.post.case
    discussion = await content.post(author_alias_id=author)
    wrong = await rpc_error(
        content.stub.MarkCaseSolved(
            pb.MarkCaseSolvedRequest(post_id=discussion.post_id, author_alias_id=author)
        )
    )
    assert set(violations(wrong)) == {"post_id"}


async def test_a_poll_must_close_in_the_future(content: ContentClient) -> None:
    past = Timestamp()
    past.FromDatetime(datetime.now(UTC) - timedelta(minutes=1))
    error = await rpc_error(content.poll(poll_closes_at=past))
    assert set(violations(error)) == {"poll_closes_at"}


async def test_concurrent_writers_all_succeed_while_the_feed_is_read(
    content: ContentClient,
) -> None:
    """Twenty authors posting at once, with readers: every write lands. On SQLite a write
    after a read in one transaction used to fail with `database is locked` (a stale read
    snapshot cannot take the write lock, and the busy timeout does not apply)."""

    async def author() -> list[str]:
        writer = alias()
        return [
            (await content.post(author_alias_id=writer, request_id=f"r{i}")).post_id
            for i in range(3)
        ]

    async def reader() -> None:
        for _ in range(5):
            await content.stub.ListFeed(pb.ListFeedRequest(first=20))

    results = await asyncio.gather(
        *(author() for _ in range(20)), *(reader() for _ in range(3)), return_exceptions=True
    )
    failed = [r for r in results if isinstance(r, BaseException)]
    assert failed == []
    created = {p for r in results[:20] if isinstance(r, list) for p in r}
    assert len(created) == 60
