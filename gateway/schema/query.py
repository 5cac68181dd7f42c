"""The Query root: the feed, posts, search, communities, specialties, oneself and the audit ledger.

Root fields are nullable on purpose: when the service behind one is down, that field is
null with an UNAVAILABLE error and the rest of the response still arrives (partial data).
"""

from __future__ import annotations

import strawberry

from consilium.content.v1 import content_pb2 as cpb
from gateway.caches import ALL
from gateway.clients.content import FeedCards
from gateway.context import Info
from gateway.schema.following import followed_communities
from gateway.schema.prefetch import page_cards, prefetch
from gateway.schema.selection import PostShape, connection_shape, post_shape, under
from gateway.schema.types.audit import (
    MAX_AUDIT_PAGE,
    AuditEventConnection,
    AuditFilter,
    ChainReport,
)
from gateway.schema.types.author import Author
from gateway.schema.types.enums import CASE_STATUS, CaseStatus, to_proto
from gateway.schema.types.identity import Specialty, ViewerProfile
from gateway.schema.types.notifications import ActivityConnection, NotificationConnection
from gateway.schema.types.posts import (
    Community,
    Post,
    PostConnection,
    check_page_size,
)
from gateway.schema.types.transparency import AuditCheckpoint, inclusion_proof_loader
from gateway.schema.visible import find_post
from plumbing.auth import Role
from plumbing.errors import FieldViolation, InvalidArgument


def _status(status: CaseStatus | None) -> int:
    return to_proto(status, CASE_STATUS) if status is not None else 0


async def _ready(
    info: Info,
    page: cpb.ListFeedResponse | cpb.SearchResponse,
    shape: PostShape,
    carried: FeedCards | None,
) -> PostConnection:
    """The page with everything its selection shows fetched ahead (gateway/schema/prefetch.py);
    `carried`: the cards the page call brought along."""
    context = info.context
    cards = None if carried is None else await context.loaders.batches.complete([carried])
    return PostConnection.from_proto(page, await prefetch(context, page.posts, shape, cards))


@strawberry.type
class Query:
    @strawberry.field(
        description="The signed-in account, own data only: open to PENDING accounts too, "
        "which see their verification status here and nothing else."
    )
    async def me(self, info: Info) -> ViewerProfile:
        viewer = info.context.auth.require()
        physician = await info.context.upstreams.identity.get_physician(
            viewer.user_id, viewer.metadata
        )
        return ViewerProfile.from_proto(physician)

    @strawberry.field(
        description="Newest first; filter by community, by case status (CASE posts of that "
        "status only), or `following: true` for the communities the viewer follows. "
        "Verified physicians and staff."
    )
    async def feed(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        community: strawberry.ID | None = None,
        case_status: CaseStatus | None = None,
        following: bool = False,
    ) -> PostConnection | None:
        info.context.auth.require_reader()
        check_page_size(first, info.context.settings.max_page_size)
        if following and community is not None:
            raise InvalidArgument(
                [FieldViolation("following", "choose one community or the followed ones")]
            )
        only = await followed_communities(info) if following else None
        shape = connection_shape(under(info.selected_fields))
        page, carried = await info.context.upstreams.content.feed(
            str(community or ""),
            first,
            after or "",
            case_status=_status(case_status),
            only_communities=only,
            cards=page_cards(info.context, shape, first),
        )
        return await _ready(info, page, shape, carried)

    @strawberry.field
    async def post(self, info: Info, id: strawberry.ID) -> Post | None:
        info.context.auth.require_reader()
        found = await find_post(info, str(id))
        if found is None:
            return None
        shape = post_shape(under(info.selected_fields))
        return Post.from_proto(found, await prefetch(info.context, [found], shape))

    @strawberry.field(
        description="Full-text search over titles, bodies and case fields; `caseStatus` keeps "
        "CASE posts of that status only."
    )
    async def search(
        self,
        info: Info,
        text: str,
        first: int = 20,
        after: str | None = None,
        case_status: CaseStatus | None = None,
    ) -> PostConnection | None:
        info.context.auth.require_reader()
        if not text.strip():
            raise InvalidArgument([FieldViolation("text", "say what to search for")])
        check_page_size(first, info.context.settings.max_page_size)
        shape = connection_shape(under(info.selected_fields))
        page, carried = await info.context.upstreams.content.search(
            text,
            first,
            after or "",
            case_status=_status(case_status),
            cards=page_cards(info.context, shape, first),
        )
        return await _ready(info, page, shape, carried)

    @strawberry.field(description="Public: the registration form lists them.")
    async def communities(self, info: Info) -> list[Community] | None:
        upstreams = info.context.upstreams
        found = await upstreams.caches.community_list.one(ALL, upstreams.content.communities)
        return [Community.from_proto(c) for c in found]

    @strawberry.field(description="Public: the registration form lists them.")
    async def specialties(self, info: Info) -> list[Specialty] | None:
        upstreams = info.context.upstreams
        found = await upstreams.caches.specialties.one(ALL, upstreams.identity.list_specialties)
        return [Specialty.from_proto(s) for s in found]

    @strawberry.field(description="An author persona by alias id.")
    async def author(self, info: Info, alias_id: strawberry.ID) -> Author | None:
        info.context.auth.require_reader()
        persona = await info.context.loaders.personas.load(str(alias_id))
        return Author.from_proto(persona) if persona is not None else None

    @strawberry.field(
        description="The viewer's notifications, newest first (in the order the index learnt "
        "of them): replies to their posts and comments under any of their aliases, with how "
        "many are unread. From the viewer's own sealed index at anonymity; open one with "
        "`post(id:)`."
    )
    async def notifications(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> NotificationConnection | None:
        viewer = info.context.auth.require()
        check_page_size(first, info.context.settings.max_page_size)
        reply = await info.context.upstreams.anonymity.notifications(
            viewer.user_id, first, after or "", viewer.metadata
        )
        return NotificationConnection.from_proto(reply)

    @strawberry.field(
        description="The viewer's own posts and comments across all their aliases, newest "
        "first, each with the visibility it was written under. Only the viewer sees this."
    )
    async def my_activity(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> ActivityConnection | None:
        viewer = info.context.auth.require()
        check_page_size(first, info.context.settings.max_page_size)
        reply = await info.context.upstreams.anonymity.activity(
            viewer.user_id, first, after or "", viewer.metadata
        )
        return ActivityConnection.from_proto(reply)

    @strawberry.field(description="AUDITOR: identity-access events, oldest first.")
    async def audit_events(
        self,
        info: Info,
        filter: AuditFilter | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> AuditEventConnection | None:
        viewer = info.context.auth.require().require_role(Role.AUDITOR)
        check_page_size(first, MAX_AUDIT_PAGE)
        where = (filter or AuditFilter()).to_proto()
        audit = info.context.upstreams.audit
        reply = await audit.query(where, first, after or "", viewer.metadata)
        # Only this page's events share the loader: one BatchGetInclusionProofs per page.
        return AuditEventConnection.from_proto(
            reply, inclusion_proof_loader(audit, viewer.metadata)
        )

    @strawberry.field(
        description="AUDITOR: re-checks the ledger's hash chains and signatures (all producers "
        "unless one is named)."
    )
    async def verify_audit_chain(
        self, info: Info, producer: str | None = None
    ) -> list[ChainReport] | None:
        viewer = info.context.auth.require().require_role(Role.AUDITOR)
        reply = await info.context.upstreams.audit.verify(producer or "", viewer.metadata)
        return [ChainReport.from_proto(r) for r in reply.reports]

    @strawberry.field(
        description="AUDITOR: the newest signed checkpoint of one producer's transparency "
        "log (signed now if events were added since the last one). Keep the notes you get "
        "and hold newer ones against them: a ledger that dropped or rewrote events cannot "
        "produce a consistent one."
    )
    async def audit_checkpoint(self, info: Info, producer: str) -> AuditCheckpoint | None:
        viewer = info.context.auth.require().require_role(Role.AUDITOR)
        reply = await info.context.upstreams.audit.checkpoint(producer, viewer.metadata)
        return AuditCheckpoint.from_proto(reply)
