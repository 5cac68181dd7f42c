"""Reporting posts and comments, and the moderation queue: the root fields.

A report goes to content under the reporter's ANONYMOUS alias of the post's thread (as a
reaction does), so content can keep one report per alias and item without learning who
reports, and the alias links to none of the reporter's others. The queue and its actions
are for MODERATOR and ADMIN, checked live, never on the token alone (a token's roles are as
old as the token): content cannot check a role (it never learns who asks), so the gateway
reads the queue only after identity says the account still holds the role and is not
suspended, and `resolveReport` goes through anonymity's `RecordModeration`, which checks at
identity and records. Acting on the author goes through anonymity too (`suspendAuthor`,
`hideAlias`).
"""

from __future__ import annotations

from collections.abc import Sequence

import strawberry

from consilium.content.v1 import content_pb2 as cpb
from consilium.content.v1 import types_pb2 as ctypes
from consilium.identity.v1 import identity_pb2 as ipb
from gateway.auth import Viewer
from gateway.context import Info
from gateway.schema.mutation import _writer
from gateway.schema.types.enums import to_proto
from gateway.schema.types.posts import check_page_size
from gateway.schema.types.reports import (
    MODERATION_ACTION,
    REPORT_REASON,
    REPORT_STATUS,
    ModerationAction,
    ModerationQueueConnection,
    ModerationQueueItem,
    ModerationResult,
    Report,
    ReportReason,
    ReportStatus,
)
from gateway.schema.writes import readable_post, thread_alias
from plumbing.auth import Role
from plumbing.auth.live import standing_from_proto
from plumbing.errors import NotFound, PermissionDenied


async def _live_staff(info: Info) -> Viewer:
    """The viewer, if MODERATOR or ADMIN now: the token's roles first (no call for members),
    then the account as identity holds it, so a demoted or suspended moderator whose token
    is still valid is refused at once. One existing call (the viewer's own profile, which
    identity serves on the viewer's token and does not record), no new RPC or credential."""
    staff = (Role.MODERATOR, Role.ADMIN)
    viewer = info.context.auth.require().require_role(*staff)
    try:
        account = await info.context.upstreams.identity.get_physician(
            viewer.user_id, viewer.metadata
        )
    except NotFound:
        raise PermissionDenied("permission denied: your account no longer exists") from None
    standing = standing_from_proto(
        ipb.CheckActorResponse(
            exists=True,
            erased=account.erased,
            verification=account.verification,
            roles=account.roles,
        )
    )
    refusal = standing.refusal(*staff)
    if refusal:
        raise PermissionDenied(refusal)
    return viewer


@strawberry.type
class ReportMutations:
    @strawberry.mutation(
        description="VERIFIED physicians: report a post (or one of its comments) to the "
        "moderators. Once per member and item: a repeat answers the first report. `note` "
        "(up to 1,000 characters, no patient identifiers) is required for OTHER. Who "
        "reported is never shown, to moderators or anyone."
    )
    async def report_content(
        self,
        info: Info,
        post_id: strawberry.ID,
        reason: ReportReason,
        comment_id: strawberry.ID | None = None,
        note: str | None = None,
    ) -> Report:
        _writer(info)
        post = await readable_post(info, str(post_id))
        alias = await thread_alias(info, post)
        reply = await info.context.upstreams.content.report(
            cpb.ReportContentRequest(
                post_id=post.post_id,
                comment_id=str(comment_id or ""),
                reporter_alias_id=alias,
                reason=to_proto(reason, REPORT_REASON),  # type: ignore[arg-type]
                note=note or "",
            )
        )
        return Report.from_proto(reply)

    @strawberry.mutation(
        description="MODERATOR or ADMIN: act on a reported post or comment. HIDE_CONTENT "
        "hides that one item (its author's other content stays); DISMISS closes its "
        "reports. Recorded in content's moderation log with the acting role. To act on the "
        "author, use `suspendAuthor` or `hideAlias` with the item's `authorAliasId`."
    )
    async def resolve_report(
        self, info: Info, item_id: strawberry.ID, action: ModerationAction, reason: str
    ) -> ModerationResult:
        # Forwarded, not refused here: anonymity checks the role live at identity and records
        # the attempt, granted or refused, before content is asked to do anything.
        viewer = info.context.auth.require()
        await info.context.upstreams.anonymity.record_moderation(
            str(item_id), action.value, reason, viewer.metadata
        )
        role = Role.ADMIN if viewer.claims.has_role(Role.ADMIN) else Role.MODERATOR
        reply = await info.context.upstreams.content.resolve_reports(
            cpb.ResolveReportsRequest(
                item_id=str(item_id),
                action=to_proto(action, MODERATION_ACTION),  # type: ignore[arg-type]
                reason=reason,
                staff_role=role.value,
            )
        )
        comments = await _comments(info, [reply.item])
        return ModerationResult(
            item=ModerationQueueItem.from_proto(reply.item, comments),
            action_id=strawberry.ID(reply.action_id),
        )


@strawberry.type
class ModerationQueries:
    @strawberry.field(
        description="MODERATOR or ADMIN: reported posts and comments, most recently reported "
        "first, with counts per reason; never who reported."
    )
    async def moderation_queue(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        status: ReportStatus = ReportStatus.OPEN,
    ) -> ModerationQueueConnection | None:
        await _live_staff(info)
        check_page_size(first, info.context.settings.max_page_size)
        page = await info.context.upstreams.content.moderation_queue(
            to_proto(status, REPORT_STATUS),  # type: ignore[arg-type]
            first,
            after or "",
        )
        return ModerationQueueConnection.from_proto(page, await _comments(info, page.items))


async def _comments(info: Info, items: Sequence[cpb.QueueItem]) -> dict[str, ctypes.Comment]:
    """The reported comments of a page, in one batched call."""
    wanted = [i.comment_id for i in items if i.comment_id]
    return await info.context.upstreams.content.comments(wanted) if wanted else {}
