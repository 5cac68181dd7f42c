"""The Mutation root: the gateway asks anonymity for an alias, then calls content with it alone."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from consilium.anonymity.v1 import anonymity_pb2 as anon
from consilium.content.v1 import content_pb2 as cpb
from consilium.identity.v1 import identity_pb2 as ipb
from gateway.auth import Viewer
from gateway.context import Info
from gateway.schema.authoring import AuthorMutations
from gateway.schema.following import FollowMutations
from gateway.schema.types.engagement import Poll
from gateway.schema.types.enums import (
    POST_KIND,
    REACTION,
    VISIBILITY,
    PostKind,
    Reaction,
    Visibility,
    to_proto,
)
from gateway.schema.types.identity import AuthPayload, Physician, RegisterInput, ViewerProfile
from gateway.schema.types.posts import Comment, Post
from gateway.schema.writes import CaseInput, case_to_proto, readable_post, thread_alias
from plumbing.errors import FieldViolation, InvalidArgument
from plumbing.timestamps import timestamp


@strawberry.input
class CreatePostInput:
    kind: PostKind
    community: strawberry.ID
    title: str
    body: str = ""
    visibility: Visibility = Visibility.PSEUDONYMOUS
    case: CaseInput | None = None
    poll_options: list[str] | None = None
    poll_closes_at: datetime | None = None


@strawberry.input
class AddCommentInput:
    post_id: strawberry.ID
    body: str
    visibility: Visibility = Visibility.PSEUDONYMOUS
    parent_id: strawberry.ID | None = None


async def _payload(info: Info, email: str, password: str) -> AuthPayload:
    # The client's address lets identity throttle a guesser there without locking the
    # account everywhere (services/identity/login_guard.py).
    reply = await info.context.upstreams.identity.login(
        email, password, info.context.client_address
    )
    return AuthPayload(token=reply.access_token, viewer=ViewerProfile.from_proto(reply.physician))


def _writer(info: Info) -> Viewer:
    """The verified viewer, one write spent from their per-person budget (never per alias:
    gateway/limits/writes.py), before any upstream call."""
    viewer = info.context.auth.require().require_verified()
    info.context.limits.writes.spend(viewer)
    return viewer


@strawberry.type
class Mutation(AuthorMutations, FollowMutations):
    @strawberry.mutation(description="A new PENDING physician, signed in.")
    async def register(self, info: Info, input: RegisterInput) -> AuthPayload:
        await info.context.upstreams.identity.register(
            ipb.RegisterRequest(
                email=input.email,
                password=input.password,
                full_name=input.full_name,
                npi=input.npi,
                specialty_code=input.specialty,
                country=input.country,
            )
        )
        return await _payload(info, input.email, input.password)

    @strawberry.mutation
    async def login(self, info: Info, email: str, password: str) -> AuthPayload:
        return await _payload(info, email, password)

    @strawberry.mutation(description="VERIFIED physicians only; the author is an alias.")
    async def create_post(self, info: Info, input: CreatePostInput) -> Post:
        viewer = _writer(info)
        anonymity = info.context.upstreams.anonymity
        if input.kind is PostKind.CASE and input.case is None:
            raise InvalidArgument([FieldViolation("case", "a CASE post needs its case details")])
        scope = await anonymity.new_thread_scope(viewer.metadata)
        alias = await anonymity.alias_for(
            viewer.user_id, to_proto(input.visibility, VISIBILITY), scope, viewer.metadata
        )
        closes_at = None if input.poll_closes_at is None else timestamp(input.poll_closes_at)
        post = await info.context.upstreams.content.create_post(
            cpb.CreatePostRequest(
                request_id=uuid.uuid4().hex,
                kind=to_proto(input.kind, POST_KIND),  # type: ignore[arg-type]
                community_id=str(input.community),
                thread_scope_id=scope,
                author_alias_id=alias,
                title=input.title,
                body=input.body,
                case=case_to_proto(input.case),
                poll_options=input.poll_options or [],
                poll_closes_at=closes_at,
            )
        )
        return Post.from_proto(post)

    @strawberry.mutation
    async def add_comment(self, info: Info, input: AddCommentInput) -> Comment:
        viewer = _writer(info)
        post = await readable_post(info, str(input.post_id))
        alias = await info.context.upstreams.anonymity.alias_for(
            viewer.user_id,
            to_proto(input.visibility, VISIBILITY),
            post.thread_scope_id,
            viewer.metadata,
        )
        comment = await info.context.upstreams.content.add_comment(
            cpb.AddCommentRequest(
                request_id=uuid.uuid4().hex,
                post_id=post.post_id,
                parent_id=str(input.parent_id or ""),
                author_alias_id=alias,
                body=input.body,
            )
        )
        return Comment.from_proto(comment)

    @strawberry.mutation(description="Reacts with the viewer's alias for this thread only.")
    async def react(self, info: Info, post_id: strawberry.ID, reaction: Reaction) -> Post:
        _writer(info)
        post = await readable_post(info, str(post_id))
        alias = await thread_alias(info, post)
        await info.context.upstreams.content.react(
            post.post_id, alias, to_proto(reaction, REACTION)
        )
        # The viewer may have just got a thread alias; what was loaded before is stale.
        info.context.loaders.reactions.clear_all()
        info.context.loaders.thread_aliases.clear_all()
        return Post.from_proto(post)

    @strawberry.mutation(description="One vote per physician per poll, by a per-poll alias.")
    async def vote_poll(self, info: Info, post_id: strawberry.ID, option: int) -> Poll:
        _writer(info)
        post = await readable_post(info, str(post_id))
        alias = await thread_alias(info, post)
        poll = await info.context.upstreams.content.vote(post.post_id, alias, option)
        return Poll.from_proto(poll, viewer_has_voted=poll.viewer_has_voted)

    # Staff mutations below check only that someone is signed in: the role check belongs to
    # the service that owns the access (identity for accounts, anonymity for aliases), which
    # records a refusal as well as a grant (A1, P3). Refusing a signed-in member here would
    # leave no record of the attempt. Without a token there is no actor to record, so
    # `require()` refuses those here, UNAUTHENTICATED.

    @strawberry.mutation(
        description="ADMIN: approve or reject a physician after the NPI check; audited."
    )
    async def verify_physician(
        self, info: Info, user_id: strawberry.ID, approve: bool
    ) -> Physician:
        viewer = info.context.auth.require()
        physician = await info.context.upstreams.identity.verify(
            str(user_id), approve, viewer.metadata
        )
        return Physician.from_proto(physician)

    @strawberry.mutation(
        description="ADMIN: suspend a physician's account; audited. It stops the person's "
        "writes under every alias (anonymity hands out no alias for writing) and hides nothing: "
        "their existing posts stay as they are. To hide content, act on one alias "
        "(`suspendAuthor`, `hideAlias`)."
    )
    async def suspend_physician(self, info: Info, user_id: strawberry.ID, reason: str) -> Physician:
        viewer = info.context.auth.require()
        physician = await info.context.upstreams.identity.suspend(
            str(user_id), reason, viewer.metadata
        )
        return Physician.from_proto(physician)

    @strawberry.mutation(description="ADMIN: lift a suspension; audited.")
    async def reinstate_physician(self, info: Info, user_id: strawberry.ID) -> Physician:
        viewer = info.context.auth.require()
        physician = await info.context.upstreams.identity.reinstate(str(user_id), viewer.metadata)
        return Physician.from_proto(physician)

    @strawberry.mutation(
        description="Right to be forgotten, for oneself or (ADMIN) anyone: personal data is "
        "deleted and the posts can never again be linked to the person."
    )
    async def erase_account(self, info: Info, user_id: strawberry.ID) -> bool:
        viewer = info.context.auth.require()
        await info.context.upstreams.identity.erase(str(user_id), viewer.metadata)
        return True

    @strawberry.mutation(
        description="MODERATOR or ADMIN: who wrote this, under a stated purpose; audited, "
        "refusals included."
    )
    async def reveal_author(self, info: Info, alias_id: strawberry.ID, purpose: str) -> Physician:
        viewer = info.context.auth.require()
        revealed = await info.context.upstreams.anonymity.reveal(
            str(alias_id), purpose, viewer.metadata
        )
        physician = await info.context.upstreams.identity.get_physician(
            revealed.user_id, (*viewer.metadata, *revealed_grant(revealed))
        )
        return Physician.from_proto(physician)

    @strawberry.mutation(
        description="MODERATOR or ADMIN: suspend the person behind an alias, unrevealed; "
        "audited. Their posts under this alias (only this one) are hidden shortly after "
        "(anonymity's event reaches content), and the person can no longer write under any "
        "alias."
    )
    async def suspend_author(self, info: Info, alias_id: strawberry.ID, reason: str) -> bool:
        return await _act(info, alias_id, anon.ALIAS_ACTION_SUSPEND, reason)

    @strawberry.mutation(
        description="MODERATOR or ADMIN: show the alias again and reinstate the account "
        "behind it, unrevealed; audited. Undoes `suspendAuthor` on the same alias."
    )
    async def reinstate_author(self, info: Info, alias_id: strawberry.ID, reason: str) -> bool:
        return await _act(info, alias_id, anon.ALIAS_ACTION_REINSTATE, reason)

    @strawberry.mutation(
        description="MODERATOR or ADMIN: hide the posts and comments of one more alias, "
        "unrevealed; audited. The account and its other aliases are left alone."
    )
    async def hide_alias(self, info: Info, alias_id: strawberry.ID, reason: str) -> bool:
        return await _act(info, alias_id, anon.ALIAS_ACTION_HIDE, reason)

    @strawberry.mutation(
        description="MODERATOR or ADMIN: show one hidden alias again; audited. The account "
        "is left alone."
    )
    async def unhide_alias(self, info: Info, alias_id: strawberry.ID, reason: str) -> bool:
        return await _act(info, alias_id, anon.ALIAS_ACTION_UNHIDE, reason)

    @strawberry.mutation(
        description="Marks the viewer's notifications read up to and including the one whose "
        "id is `upTo` (all of them when omitted); returns how many stay unread."
    )
    async def mark_notifications_read(self, info: Info, up_to: strawberry.ID | None = None) -> int:
        viewer = info.context.auth.require()
        return await info.context.upstreams.anonymity.mark_notifications_read(
            viewer.user_id, str(up_to or ""), viewer.metadata
        )


async def _act(
    info: Info, alias_id: strawberry.ID, action: anon.AliasAction.ValueType, reason: str
) -> bool:
    """One moderation action on one alias, through anonymity (which checks and records it).

    Hiding reaches content only as anonymity's alias-level event, never from here: a
    gateway that could hide aliases at will could also hide them in revealing bursts.
    """
    viewer = info.context.auth.require()
    await info.context.upstreams.anonymity.act(str(alias_id), action, reason, viewer.metadata)
    return True


def revealed_grant(revealed: object) -> tuple[tuple[str, str], ...]:
    """Metadata carrying anonymity's reveal grant to identity, when anonymity issued one."""
    grant = getattr(revealed, "reveal_grant", "")
    return (("x-consilium-reveal-grant", grant),) if grant else ()
