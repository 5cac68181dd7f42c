"""P1: every RPC with identity canaries where a careless service might keep them; zero hits after.

Canaries ride in gRPC metadata (as a misbehaving client might send a user id, email, name,
NPI or token), in viewer alias ids (which link one person's aliases and must never be
stored) and in text the identifier guard refuses. Afterwards the SQLite files (database,
WAL and shared memory) and every captured log record are searched for them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from content_harness import ContentClient, alias
from support.service_channel import service_channel

from consilium.content.v1 import content_pb2 as pb
from consilium.content.v1 import content_pb2_grpc
from consilium.content.v1 import types_pb2 as tpb
from services.content.app import build
from services.content.settings import ContentSettings

USER_ID = "usr_canaryuserid0000000000000"
EMAIL = "canary.person@canary-hospital.org"
NAME = "Canaryfirst Canarylast"
NPI = "1999999992"
TOKEN = "canary-bearer-token-7f3a"
VIEWER = "als_canaryviewer0000"
CANARIES = (USER_ID, EMAIL, NAME, NPI, TOKEN, VIEWER, "canaryuserid", "canary.person")

METADATA = (
    ("authorization", f"Bearer {TOKEN}"),
    ("x-user-id", USER_ID),
    ("x-user-email", EMAIL),
    ("x-user-name", NAME),
    ("x-npi", NPI),
    ("baggage", f"user.id={USER_ID},user.email={EMAIL}"),
)


@pytest.fixture
async def sqlite_content(tmp_path: Path) -> AsyncIterator[tuple[ContentClient, Path]]:
    directory = tmp_path / "content"
    settings = ContentSettings(
        database_url=f"sqlite+aiosqlite:///{directory / 'content.db'}", data_dir=tmp_path, port=0
    )
    async with build(settings) as instance:
        port = await instance.server.start()
        try:
            async with service_channel(
                f"127.0.0.1:{port}", tmp_path, audience="content"
            ) as channel:
                yield (
                    ContentClient(content_pb2_grpc.ContentServiceStub(channel), instance),
                    directory,
                )
        finally:
            await instance.server.stop()


async def every_rpc(content: ContentClient) -> None:
    stub, md = content.stub, METADATA
    author = alias()
    case = await content.case(author_alias_id=author)
    post = (
        await stub.CreatePost(
            pb.CreatePostRequest(
                kind=tpb.POST_KIND_POLL,
                community_id="lounge-careers",
                thread_scope_id="scp_canarytest",
                author_alias_id=author,
                title="Locums or staff?",
                poll_options=["Locums", "Staff"],
            ),
            metadata=md,
        )
    ).post
    ids = [case.post_id, post.post_id]
    await stub.GetPost(pb.GetPostRequest(post_id=post.post_id), metadata=md)
    await stub.BatchGetPosts(pb.BatchGetPostsRequest(post_ids=ids), metadata=md)
    await stub.ListFeed(pb.ListFeedRequest(), metadata=md)
    await stub.Search(pb.SearchRequest(text="locums"), metadata=md)
    comment = await stub.AddComment(
        pb.AddCommentRequest(post_id=post.post_id, author_alias_id=alias(), body="Staff."),
        metadata=md,
    )
    await stub.BatchCountComments(pb.BatchCountCommentsRequest(post_ids=ids), metadata=md)
    await stub.BatchListComments(
        pb.BatchListCommentsRequest(queries=[pb.CommentPageQuery(post_id=post.post_id)]),
        metadata=md,
    )
    reactor = alias()
    await stub.React(
        pb.ReactRequest(
            post_id=case.post_id, reactor_alias_id=reactor, kind=tpb.REACTION_KIND_AGREE
        ),
        metadata=md,
    )
    await stub.BatchGetReactionSummaries(
        pb.BatchGetReactionSummariesRequest(post_ids=ids),
        metadata=md,
    )
    await stub.RetractReaction(
        pb.RetractReactionRequest(post_id=case.post_id, reactor_alias_id=reactor), metadata=md
    )
    await stub.VotePoll(
        pb.VotePollRequest(post_id=post.post_id, voter_alias_id=alias(), option_index=1),
        metadata=md,
    )
    await stub.BatchGetPolls(pb.BatchGetPollsRequest(post_ids=ids), metadata=md)
    await stub.ListCommunities(pb.ListCommunitiesRequest(), metadata=md)
    await stub.BatchGetCommunities(
        pb.BatchGetCommunitiesRequest(community_ids=["cardiology"]), metadata=md
    )
    await stub.MarkCaseSolved(
        pb.MarkCaseSolvedRequest(post_id=case.post_id, author_alias_id=author, resolution="Done."),
        metadata=md,
    )
    doomed = await content.post(author_alias_id=author)
    await stub.EditPost(
        pb.EditPostRequest(
            post_id=doomed.post_id, author_alias_id=author, title="Edited", body="Edited."
        ),
        metadata=md,
    )
    mine = comment.comment
    await stub.EditComment(
        pb.EditCommentRequest(
            comment_id=mine.comment_id, author_alias_id=mine.author_alias_id, body="Locums."
        ),
        metadata=md,
    )
    await stub.DeleteComment(
        pb.DeleteCommentRequest(comment_id=mine.comment_id, author_alias_id=mine.author_alias_id),
        metadata=md,
    )
    await stub.DeletePost(
        pb.DeletePostRequest(post_id=doomed.post_id, author_alias_id=author), metadata=md
    )
    # Offered to no caller: hiding reaches content only as alias events.
    with pytest.raises(grpc.aio.AioRpcError) as hiding:
        await stub.SetAliasHidden(
            pb.SetAliasHiddenRequest(alias_ids=[comment.comment.author_alias_id], hidden=True),
            metadata=md,
        )
    assert hiding.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # Refused writes: identity in the text itself, and a user id where an alias belongs.
    for refused in (
        pb.AddCommentRequest(
            post_id=post.post_id, author_alias_id=alias(), body=f"Email {EMAIL}, NPI {NPI}"
        ),
        pb.AddCommentRequest(post_id=post.post_id, author_alias_id=USER_ID, body="hi"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.AddComment(refused, metadata=md)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert not any(c in (caught.value.details() or "") for c in CANARIES)


async def test_no_identity_canary_reaches_the_database_or_the_logs(
    sqlite_content: tuple[ContentClient, Path], caplog: pytest.LogCaptureFixture
) -> None:
    content, directory = sqlite_content
    caplog.set_level(logging.DEBUG)
    await every_rpc(content)
    await content.instance.engine.dispose()  # flush and close, so every byte is on disk

    files = [p for p in directory.rglob("*") if p.is_file()]
    assert any(p.name == "content.db" for p in files)
    stored = b"".join(p.read_bytes() for p in files)
    assert b"Locums or staff?" in stored, "the scan must see real content to mean anything"
    logged = "\n".join(
        f"{r.getMessage()} {r.__dict__.get('fields', '')} {r.exc_text or ''}"
        for r in caplog.records
    )
    assert "CreatePost" in logged, "the scan must see the access log to mean anything"
    for canary in CANARIES:
        assert canary.encode() not in stored, f"{canary!r} stored in the database"
        assert canary not in logged, f"{canary!r} in the logs"
