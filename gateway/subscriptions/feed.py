"""The live feed: one consumer of content's events per gateway replica, fanned out to subscribers.

Every replica reads every event: its consumer group is its own (`gateway-<replica id>`) and
starts at the end of the topic, so a replica serves what happens while it runs, nothing older.
It commits nothing: a restarted replica has no subscribers left to catch up, and a group
without committed offsets leaves nothing behind on the broker.

An event is resolved once per replica (post, comment, community and author persona: none of
them depends on who reads) and only when someone listens; each subscriber then resolves its own
viewer-specific fields. A hidden post or comment is dropped here, so it is never sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

from consilium.anonymity.v1 import anonymity_pb2 as anon
from consilium.content.v1 import types_pb2 as ctypes
from consilium.events.v1 import content_events_pb2 as events
from gateway.caches import SharedCaches
from gateway.clients.anonymity import AnonymityClient
from gateway.clients.content import ContentClient
from gateway.subscriptions.fanout import Fanout, Subscriber
from gateway.subscriptions.sharing import SharedData
from gateway.visibility import readable
from plumbing.errors import DomainError, Unavailable
from plumbing.events.bus import EventBus, Record, Subscription
from plumbing.events.envelope import Event, MalformedEvent
from plumbing.events.topics import CONTENT_POSTS, topic_specs

log = logging.getLogger("consilium.gateway.feed")
_tracer = trace.get_tracer("consilium.gateway")

#: The fan-out key of subscribers to every community.
ALL_COMMUNITIES = ""
_POST_CREATED = events.PostCreated.DESCRIPTOR.full_name
_COMMENT_CREATED = events.CommentCreated.DESCRIPTOR.full_name
_BATCH = 100
_FETCH_WAIT = 0.5
_RESOLVE_CONCURRENCY = 8
#: Event ids remembered to drop redeliveries.
_SEEN = 4096


@dataclass(frozen=True, slots=True)
class Owners:
    """Which of the event's subscribers wrote it, asked of anonymity once for all of them
    (each by their own token): no subscriber asks alone, however many there are."""

    alias_id: str
    asked: frozenset[str] = frozenset()
    owning: frozenset[str] = frozenset()

    def of(self, token: str) -> bool | None:
        """Whether the holder of `token` wrote it; None if not asked (it then asks itself)."""
        return (token in self.owning) if token in self.asked else None


@dataclass(frozen=True, slots=True)
class NewPost:
    """A visible post, as every subscriber's resolvers start from it."""

    post: ctypes.Post
    persona: anon.Persona | None
    trace: otel_context.Context
    owners: Owners
    #: The post's community (None: each subscriber's resolvers load it, e.g. content failed).
    community: ctypes.Community | None = None
    #: Executions its subscribers share (gateway/subscriptions/sharing.py), per key.
    results: dict[Hashable, asyncio.Future[SharedData | None]] = field(default_factory=dict)
    #: Objects the schema builds once for every subscriber of the event (its root values).
    memo: dict[Hashable, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewComment:
    """A visible comment on a visible post."""

    post: ctypes.Post
    comment: ctypes.Comment
    persona: anon.Persona | None
    trace: otel_context.Context
    owners: Owners
    #: Executions its subscribers share (gateway/subscriptions/sharing.py), per key.
    results: dict[Hashable, asyncio.Future[SharedData | None]] = field(default_factory=dict)
    #: Objects the schema builds once for every subscriber of the event (its root values).
    memo: dict[Hashable, Any] = field(default_factory=dict)


class LiveFeed:
    """Consumes `content.posts.v1` and hands each event to the subscriptions that want it."""

    def __init__(
        self,
        bus: EventBus,
        content: ContentClient,
        anonymity: AnonymityClient,
        *,
        buffer: int,
        max_subscribers: int,
        ensure_topic: bool = False,
        replica_id: str | None = None,
        caches: SharedCaches | None = None,
    ) -> None:
        self._bus = bus
        # Personas are frozen per alias: a post by a known author costs anonymity nothing.
        self._caches = caches or SharedCaches.disabled()
        self._content = content
        self._anonymity = anonymity
        self._max_subscribers = max_subscribers
        self._ensure_topic = ensure_topic
        self.group = f"gateway-{replica_id or secrets.token_hex(6)}"
        self.posts: Fanout[NewPost] = Fanout(buffer)
        self.comments: Fanout[NewComment] = Fanout(buffer)
        self.joined = asyncio.Event()
        self._limit = asyncio.Semaphore(_RESOLVE_CONCURRENCY)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._task: asyncio.Task[None] | None = None

    async def start(self, *, join_timeout: float = 5.0) -> None:
        """Starts consuming; waits up to `join_timeout` for the group to be joined, so that
        subscriptions made once the app is up see every later event. A bus that is away
        only delays the feed (it keeps trying), never the gateway."""
        await self._bus.start()
        self._task = asyncio.create_task(self._join_and_run(), name=f"feed-{self.group}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.joined.wait(), join_timeout)
        if not self.joined.is_set():
            log.warning(
                "%s: the event bus is not reachable yet; live updates start later", self.group
            )

    async def stop(self) -> None:
        """Ends every subscription (clients resubscribe, on another replica if need be)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        restarting = Unavailable("the gateway is restarting; subscribe again")
        self.posts.end_all(restarting)
        self.comments.end_all(restarting)
        await self._bus.close()

    def subscribe_posts(
        self, community_id: str | None, owner_token: str | None = None
    ) -> Subscriber[NewPost]:
        """`owner_token`: the viewer's token, when its selection shows authorship."""
        self._check_capacity()
        return self.posts.subscribe(community_id or ALL_COMMUNITIES, owner_token)

    def subscribe_comments(
        self, post_id: str, owner_token: str | None = None
    ) -> Subscriber[NewComment]:
        self._check_capacity()
        return self.comments.subscribe(post_id, owner_token)

    def _check_capacity(self) -> None:
        if len(self.posts) + len(self.comments) >= self._max_subscribers:
            raise Unavailable(
                f"this gateway serves its maximum of {self._max_subscribers} live subscriptions; "
                "retry in a while"
            )

    async def _join_and_run(self) -> None:
        delay = 0.2
        while True:
            try:
                if self._ensure_topic:
                    await self._create_topic()
                subscription = await self._bus.subscribe(
                    group=self.group, topics=[CONTENT_POSTS], from_beginning=False
                )
            except Exception:
                log.warning(
                    "%s: cannot read %s yet; retrying in %.1fs",
                    self.group,
                    CONTENT_POSTS,
                    delay,
                    exc_info=True,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self.joined.set()
            log.info("%s: reading %s", self.group, CONTENT_POSTS)
            try:
                await self._run(subscription)
            except Exception:
                log.exception("%s: the feed failed; joining again", self.group)
                await asyncio.sleep(delay)
            finally:
                await subscription.close()

    async def _create_topic(self) -> None:
        """The embedded (dev) bus only: as `consilium topics create` would make it."""
        await self._bus.create_topics([s for s in topic_specs() if s.name == CONTENT_POSTS])

    async def _run(self, subscription: Subscription) -> None:
        while True:
            try:
                records = await subscription.fetch(max_records=_BATCH, wait=_FETCH_WAIT)
            except Exception:
                log.warning("%s: fetching failed; retrying", self.group, exc_info=True)
                await asyncio.sleep(1.0)
                continue
            if records:
                await self._dispatch(records)

    async def _dispatch(self, records: Sequence[Record]) -> None:
        """Resolves the batch concurrently (bounded), then delivers it in the topic's order."""
        resolved = await asyncio.gather(*(self._resolve_bounded(r) for r in records))
        for delivery in resolved:
            if isinstance(delivery, NewPost):
                keys = (delivery.post.community_id, ALL_COMMUNITIES)
                self.posts.publish(keys, delivery)
            elif isinstance(delivery, NewComment):
                self.comments.publish((delivery.comment.post_id,), delivery)

    async def _resolve_bounded(self, record: Record) -> NewPost | NewComment | None:
        event = record.event
        if event is None:
            log.warning("%s: skipping a malformed record: %s", self.group, record.error)
            return None
        if self._already_seen(event.id):
            return None
        async with self._limit:
            try:
                return await self._resolve(event)
            except DomainError as exc:
                # A live feed cannot wait for content or anonymity to come back: subscribers
                # miss this one, and a query of the feed shows it.
                log.warning(
                    "%s: dropping event %s: %s (%s)", self.group, event.id, exc.code.value, exc
                )
            except MalformedEvent as exc:
                log.warning("%s: skipping malformed event %s: %s", self.group, event.id, exc)
            except Exception:
                log.exception("%s: dropping event %s that failed to resolve", self.group, event.id)
            return None

    def _already_seen(self, event_id: str) -> bool:
        if event_id in self._seen:
            return True
        self._seen[event_id] = None
        if len(self._seen) > _SEEN:
            self._seen.popitem(last=False)
        return False

    async def _resolve(self, event: Event) -> NewPost | NewComment | None:
        if event.type == _POST_CREATED:
            created = event.decode(events.PostCreated)
            keys = (created.community_id, ALL_COMMUNITIES)
            if not self.posts.wants(keys):
                return None
            with self._consume_span(event):
                post = (await self._content.posts([created.post_id])).get(created.post_id)
                if not readable(post):
                    return None
                alias_id = post.author_alias_id
                persona, owners, community = await asyncio.gather(
                    self._persona(alias_id),
                    self._owners(alias_id, self.posts.owner_tokens(keys)),
                    self._community(post.community_id),
                )
                return NewPost(post, persona, otel_context.get_current(), owners, community)
        if event.type == _COMMENT_CREATED:
            added = event.decode(events.CommentCreated)
            if not self.comments.wants((added.post_id,)):
                return None
            with self._consume_span(event):
                posts, comments = await asyncio.gather(
                    self._content.posts([added.post_id]),
                    self._content.comments([added.comment_id]),
                )
                post = posts.get(added.post_id)
                comment = comments.get(added.comment_id)
                if not (readable(post) and readable(comment)):
                    return None
                alias_id = comment.author_alias_id
                persona, owners = await asyncio.gather(
                    self._persona(alias_id),
                    self._owners(alias_id, self.comments.owner_tokens((added.post_id,))),
                )
                return NewComment(post, comment, persona, otel_context.get_current(), owners)
        return None  # a later event type: not ours to handle yet

    def _consume_span(self, event: Event) -> contextlib.AbstractContextManager[trace.Span]:
        """A consumer span in the trace of the request that caused the event."""
        parent = propagate.extract({"traceparent": event.traceparent or ""})
        return _tracer.start_as_current_span(
            f"consume {event.topic}",
            context=parent,
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.destination.name": event.topic,
                "messaging.consumer.group.name": self.group,
                "messaging.message.id": event.id,
            },
        )

    async def _owners(self, alias_id: str, tokens: list[str]) -> Owners:
        """Who of the subscribers showing authorship wrote it: one call for all of them.
        Subscribers that join later, or all of them if anonymity fails, ask for themselves."""
        if not alias_id or not tokens:
            return Owners(alias_id)
        try:
            owning = await self._anonymity.alias_owners(alias_id, tokens)
        except DomainError:
            return Owners(alias_id)
        return Owners(alias_id, frozenset(tokens), frozenset(owning))

    async def _community(self, community_id: str) -> ctypes.Community | None:
        """The post's community, the same for every subscriber (from the process's cache,
        as their loaders would read it); None lets each one try itself."""
        try:
            found = await self._caches.communities.batch(
                [community_id], self._content.communities_by_id
            )
            return found.get(community_id)
        except DomainError:
            return None

    async def _persona(self, alias_id: str) -> anon.Persona | None:
        """The author persona, shared by every subscriber; None lets each one try itself."""
        try:
            caches = self._caches
            found = await caches.personas.batch(
                [alias_id], self._anonymity.describe, caches.persona_ttl
            )
            return found.get(alias_id)
        except DomainError:
            return None
