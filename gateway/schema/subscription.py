"""The Subscription root: new posts and comments as they happen, over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncGenerator, Callable, Hashable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import strawberry
from opentelemetry import context as otel_context

from gateway.auth import Viewer
from gateway.context import Info
from gateway.loaders import Loaders
from gateway.schema.prefetch import Fetched
from gateway.schema.types.notifications import Notification
from gateway.schema.types.posts import Comment, Post, readable
from gateway.subscriptions.direct import sent_shared
from gateway.subscriptions.fanout import Subscriber
from gateway.subscriptions.feed import NewComment, NewPost
from gateway.subscriptions.sharing import SharingExecutor, document_key, live_event
from plumbing.errors import NotFound, Unauthenticated

D = TypeVar("D", NewPost, NewComment)


def _expired() -> Unauthenticated:
    return Unauthenticated(
        "the access token of this connection expired; sign in again and resubscribe"
    )


def _prime(loaders: Loaders, delivery: NewPost | NewComment, viewer: Viewer) -> None:
    """Fresh loaders for this event, primed with what the feed resolved once for everyone,
    authorship included (asked once for every subscriber showing it): what is left per
    viewer (reactions, polls) is fetched per viewer."""
    loaders.clear()
    loaders.posts.prime(delivery.post.post_id, delivery.post)
    if delivery.persona is not None:
        loaders.personas.prime(delivery.persona.alias_id, delivery.persona)
    mine = delivery.owners.of(viewer.token)
    if mine is not None:
        loaders.owned.prime(delivery.owners.alias_id, mine)


def _document_key(info: Info) -> Hashable | None:
    """The subscription's sharing key (sharing.document_key), if the schema shares at all."""
    executor = getattr(info.schema, "execution_context_class", None)
    if not (isinstance(executor, type) and issubclass(executor, SharingExecutor)):
        return None
    return document_key(info.operation, info.variable_values, info.selected_fields)


def _event(
    info: Info, viewer: Viewer, root: object, delivery: NewPost | NewComment, key: Hashable
) -> contextlib.AbstractContextManager[None]:
    """Around the `yield` of an event's root: its loaders are made fresh and primed before
    it executes; a subscriber that takes a shared result (key given) never needs them."""
    prepare = functools.partial(_prime, info.context.loaders, delivery, viewer)
    if key is None:
        prepare()
    return live_event(root, delivery.results, key, prepare)


def _mine(delivery: NewPost | NewComment, token: str | None) -> bool | None:
    """Whether this subscriber wrote it, as the feed asked for it (`token` given when its
    selection shows authorship); None: not asked, its resolvers find out themselves."""
    return None if token is None else delivery.owners.of(token)


def _key(shared: Hashable | None, token: str | None, mine: bool | None) -> Hashable:
    """The sharing key of this subscriber's execution of an event (None: alone): the same
    document and variables, and (`token` given when it shows authorship) the same answer to
    who wrote it, which the feed must have asked for this subscriber."""
    if shared is None or token is None:
        return shared
    return None if mine is None else (shared, mine)


def _fetched(delivery: NewPost | NewComment, mine: bool | None) -> Fetched:
    """What the feed resolved for every subscriber, plus the authorship answer `mine` (only
    ever this subscriber's own): its fields read them as plain values, so an execution of a
    shared selection finishes at once, before the subscribers that take its answer run."""
    fetched = Fetched()
    persona = delivery.persona
    if persona is not None:
        fetched.personas.found[persona.alias_id] = persona
    if mine is not None:
        fetched.owned.found[delivery.owners.alias_id] = mine
    if isinstance(delivery, NewPost) and delivery.community is not None:
        fetched.communities.found[delivery.post.community_id] = delivery.community
    return fetched


def _post(delivery: NewPost, mine: bool | None) -> Post:
    """The event's root for subscribers with the same authorship answer (one per answer: the
    root of one viewer who wrote it never serves another who did not)."""
    key = ("post", mine)
    root: Post | None = delivery.memo.get(key)
    if root is None:
        root = delivery.memo[key] = Post.from_proto(delivery.post, _fetched(delivery, mine))
    return root


def _comment(delivery: NewComment, mine: bool | None) -> Comment:
    """As `_post`, for a new comment."""
    key = ("comment", mine)
    root: Comment | None = delivery.memo.get(key)
    if root is None:
        fetched = _fetched(delivery, mine)
        root = delivery.memo[key] = Comment.from_proto(delivery.comment, fetched)
    return root


#: Fields whose answer needs to know whether the viewer wrote the post or comment.
_AUTHORSHIP = frozenset({"viewerIsAuthor", "isViewer"})


def _shows_authorship(selections: Sequence[Any]) -> bool:
    """Whether `viewerIsAuthor` or `isViewer` is selected anywhere (fragments included)."""
    for selection in selections:
        if getattr(selection, "name", None) in _AUTHORSHIP:
            return True
        if _shows_authorship(getattr(selection, "selections", None) or ()):
            return True
    return False


def owner_token(info: Info, viewer: Viewer) -> str | None:
    """The token the feed asks authorship with for this subscriber, if it shows it."""
    return viewer.token if _shows_authorship(info.selected_fields) else None


async def _stream(
    info: Info, viewer: Viewer, subscribe: Callable[[], Subscriber[D]]
) -> AsyncGenerator[D, None]:
    subscriber = subscribe()
    # The subscription ends when the viewer's token expires: one timer for its whole life.
    remaining = (viewer.claims.expires_at - datetime.now(UTC)).total_seconds()
    expiry = asyncio.get_running_loop().call_later(
        max(remaining, 0.0), lambda: subscriber.end(_expired())
    )
    try:
        while True:
            delivery = await subscriber.get()
            # The fields of this event are resolved while we are suspended at `yield`, in
            # this task: calls they make belong to the trace of the event.
            token = otel_context.attach(delivery.trace)
            try:
                yield delivery
            finally:
                otel_context.detach(token)
    finally:
        expiry.cancel()
        subscriber.close()


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Posts as they are created, in one community or in all; verified physicians "
        "and staff."
    )
    async def post_added(
        self, info: Info, community: strawberry.ID | None = None
    ) -> AsyncGenerator[Post, None]:
        viewer = info.context.auth.require_reader()
        known = community is None or await info.context.loaders.communities.load(str(community))
        if not known:
            raise NotFound(f"there is no community {community!s}; `communities` lists them")
        feed = info.context.feed
        token = owner_token(info, viewer)
        subscribe = functools.partial(
            feed.subscribe_posts, str(community) if community else None, token
        )
        shared = _document_key(info)
        async with contextlib.aclosing(_stream(info, viewer, subscribe)) as stream:
            async for delivery in stream:
                mine = _mine(delivery, token)
                key = _key(shared, token, mine)
                if await sent_shared(delivery.results, key):
                    continue  # another subscriber's equal answer, sent as it is
                post = _post(delivery, mine)
                with _event(info, viewer, post, delivery, key):
                    yield post

    @strawberry.subscription(
        description="Comments as they are added to one post; verified physicians and staff."
    )
    async def comment_added(
        self, info: Info, post_id: strawberry.ID
    ) -> AsyncGenerator[Comment, None]:
        viewer = info.context.auth.require_reader()
        post = await info.context.loaders.posts.load(str(post_id))
        if not readable(post):
            raise NotFound("there is no such post; it may have been removed")
        token = owner_token(info, viewer)
        subscribe = functools.partial(info.context.feed.subscribe_comments, str(post_id), token)
        shared = _document_key(info)
        async with contextlib.aclosing(_stream(info, viewer, subscribe)) as stream:
            async for delivery in stream:
                mine = _mine(delivery, token)
                key = _key(shared, token, mine)
                if await sent_shared(delivery.results, key):
                    continue
                comment = _comment(delivery, mine)
                with _event(info, viewer, comment, delivery, key):
                    yield comment

    @strawberry.subscription(
        description="The viewer's new notifications as they arrive (any signed-in account)."
    )
    async def notification_added(self, info: Info) -> AsyncGenerator[Notification, None]:
        viewer = info.context.auth.require()
        anonymity = info.context.upstreams.anonymity
        every = info.context.settings.notification_poll_seconds
        # Anonymity announces nothing person-keyed (a topic of per-person pings would let a
        # reader join them to content's events), so the gateway looks at the viewer's own
        # index: one call per subscriber per interval, newest page only.
        seen = (await anonymity.notifications(viewer.user_id, 1, "", viewer.metadata)).total_count
        while True:
            remaining = (viewer.claims.expires_at - datetime.now(UTC)).total_seconds()
            if remaining <= 0:
                raise Unauthenticated(
                    "the access token of this connection expired; sign in again and resubscribe"
                )
            await asyncio.sleep(min(every, remaining))
            reply = await anonymity.notifications(
                viewer.user_id, info.context.settings.max_page_size, "", viewer.metadata
            )
            fresh = reply.total_count - seen
            if fresh <= 0:
                continue
            seen = reply.total_count
            for entry in reversed(reply.entries[:fresh]):  # oldest first
                yield Notification.from_proto(entry)
