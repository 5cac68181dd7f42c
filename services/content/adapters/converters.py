"""Protobuf <-> domain conversions for content; protobuf goes no further than this module."""

from __future__ import annotations

from consilium.content.v1 import content_pb2 as pb
from consilium.content.v1 import types_pb2 as tpb
from plumbing.errors import FieldViolation, InvalidArgument
from plumbing.timestamps import timestamp, to_datetime
from services.content.domain.engagement import (
    ParticipantPage,
    PollView,
    ReactionKind,
    ReactionSummary,
)
from services.content.domain.feeds import FeedFilter, feed_filter
from services.content.domain.posts import (
    AgeBand,
    CaseFacts,
    CaseStatus,
    Comment,
    Community,
    Post,
    PostDraft,
    PostKind,
    Sex,
)

_KIND_TO_PB = {
    PostKind.CASE: tpb.POST_KIND_CASE,
    PostKind.DISCUSSION: tpb.POST_KIND_DISCUSSION,
    PostKind.POLL: tpb.POST_KIND_POLL,
}
_KIND_FROM_PB = {v: k for k, v in _KIND_TO_PB.items()}
_AGE_TO_PB = {
    AgeBand.NEONATE: tpb.AGE_BAND_NEONATE,
    AgeBand.INFANT: tpb.AGE_BAND_INFANT,
    AgeBand.CHILD: tpb.AGE_BAND_CHILD,
    AgeBand.ADOLESCENT: tpb.AGE_BAND_ADOLESCENT,
    AgeBand.YOUNG_ADULT: tpb.AGE_BAND_YOUNG_ADULT,
    AgeBand.MIDDLE_AGED: tpb.AGE_BAND_MIDDLE_AGED,
    AgeBand.OLDER_ADULT: tpb.AGE_BAND_OLDER_ADULT,
    AgeBand.NINETY_PLUS: tpb.AGE_BAND_NINETY_PLUS,
}
_AGE_FROM_PB = {v: k for k, v in _AGE_TO_PB.items()}
_SEX_TO_PB = {
    Sex.FEMALE: tpb.SEX_FEMALE,
    Sex.MALE: tpb.SEX_MALE,
    Sex.INTERSEX: tpb.SEX_INTERSEX,
    Sex.UNDISCLOSED: tpb.SEX_UNDISCLOSED,
}
_SEX_FROM_PB = {v: k for k, v in _SEX_TO_PB.items()}
_STATUS_TO_PB = {CaseStatus.OPEN: tpb.CASE_STATUS_OPEN, CaseStatus.SOLVED: tpb.CASE_STATUS_SOLVED}
_STATUS_FROM_PB = {v: k for k, v in _STATUS_TO_PB.items()}
_REACTION_TO_PB = {
    ReactionKind.LIKE: tpb.REACTION_KIND_LIKE,
    ReactionKind.INSIGHTFUL: tpb.REACTION_KIND_INSIGHTFUL,
    ReactionKind.AGREE: tpb.REACTION_KIND_AGREE,
    ReactionKind.SUPPORT: tpb.REACTION_KIND_SUPPORT,
}
_REACTION_FROM_PB = {v: k for k, v in _REACTION_TO_PB.items()}


def kind_to_proto(kind: PostKind) -> tpb.PostKind.ValueType:
    return _KIND_TO_PB[kind]


def reaction_from_proto(value: int) -> ReactionKind | None:
    return _REACTION_FROM_PB.get(tpb.ReactionKind.ValueType(value))


def status_from_proto(value: int) -> CaseStatus | None:
    """Unspecified (or unknown): no status filter."""
    return _STATUS_FROM_PB.get(tpb.CaseStatus.ValueType(value))


def facts_from_proto(source: tpb.CaseInput) -> CaseFacts:
    """Unknown enum values become None, which validation reports against the field."""
    return CaseFacts(
        age_band=_AGE_FROM_PB.get(source.age_band),
        sex=_SEX_FROM_PB.get(source.sex),
        presenting_complaint=source.presenting_complaint,
        history=source.history,
        question=source.question,
        specialty_tags=tuple(source.specialty_tags),
    )


def feed_filter_from_proto(request: pb.ListFeedRequest) -> FeedFilter:
    return feed_filter(
        request.community_id,
        tuple(request.community_ids),
        request.only_communities,
        status_from_proto(request.case_status),
    )


def draft_from_proto(request: pb.CreatePostRequest) -> PostDraft:
    """Unknown enum values become None, which validation reports against the field."""
    case = facts_from_proto(request.case) if request.HasField("case") else None
    closes_at = None
    if request.HasField("poll_closes_at"):
        try:
            closes_at = to_datetime(request.poll_closes_at)
        except (ValueError, OverflowError):
            # Seconds or nanos a datetime cannot hold: the caller's error, not an internal one.
            raise InvalidArgument(
                [FieldViolation("poll_closes_at", "is not a timestamp from year 1 to 9999")]
            ) from None
    return PostDraft(
        kind=_KIND_FROM_PB.get(request.kind),
        community_id=request.community_id,
        thread_scope_id=request.thread_scope_id,
        author_alias_id=request.author_alias_id,
        title=request.title,
        body=request.body,
        case=case,
        poll_options=tuple(request.poll_options),
        poll_closes_at=closes_at,
        request_id=request.request_id,
    )


def post_to_proto(post: Post) -> tpb.Post:
    message = tpb.Post(
        post_id=post.post_id,
        kind=kind_to_proto(post.kind),
        community_id=post.community_id,
        thread_scope_id=post.thread_scope_id,
        author_alias_id=post.author_alias_id,
        title=post.title,
        body=post.body,
        created_at=timestamp(post.created_at),
        hidden=post.hidden,
        deleted=post.deleted,
    )
    if post.edited_at is not None:
        message.edited_at.CopyFrom(timestamp(post.edited_at))
    if post.case is not None:
        facts = post.case.facts
        details = message.case
        details.age_band = (
            _AGE_TO_PB[facts.age_band] if facts.age_band else tpb.AGE_BAND_UNSPECIFIED
        )
        details.sex = _SEX_TO_PB[facts.sex] if facts.sex else tpb.SEX_UNSPECIFIED
        details.presenting_complaint = facts.presenting_complaint
        details.history = facts.history
        details.question = facts.question
        details.specialty_tags.extend(facts.specialty_tags)
        details.status = _STATUS_TO_PB[post.case.status]
        details.resolution = post.case.resolution
        if post.case.solved_at is not None:
            details.solved_at.CopyFrom(timestamp(post.case.solved_at))
    return message


def comment_to_proto(comment: Comment) -> tpb.Comment:
    message = tpb.Comment(
        comment_id=comment.comment_id,
        post_id=comment.post_id,
        parent_id=comment.parent_id,
        author_alias_id=comment.author_alias_id,
        body=comment.body,
        created_at=timestamp(comment.created_at),
        hidden=comment.hidden,
        deleted=comment.deleted,
    )
    if comment.edited_at is not None:
        message.edited_at.CopyFrom(timestamp(comment.edited_at))
    return message


def community_to_proto(community: Community) -> tpb.Community:
    return tpb.Community(
        community_id=community.community_id,
        name=community.name,
        description=community.description,
    )


def summary_to_proto(summary: ReactionSummary) -> tpb.ReactionSummary:
    return tpb.ReactionSummary(
        post_id=summary.post_id,
        counts=[tpb.ReactionCount(kind=_REACTION_TO_PB[k], count=n) for k, n in summary.counts],
        total=summary.total,
        viewer_reaction=(
            _REACTION_TO_PB[summary.viewer_reaction]
            if summary.viewer_reaction
            else tpb.REACTION_KIND_UNSPECIFIED
        ),
        reactors=_reactors(summary.reactors.items) if summary.reactors else [],
        reactors_next_cursor=summary.reactors.next_cursor if summary.reactors else "",
    )


def _reactors(items: tuple[tuple[str, ReactionKind], ...]) -> list[tpb.Reactor]:
    return [tpb.Reactor(alias_id=a, kind=_REACTION_TO_PB[k]) for a, k in items]


def reactor_page_to_proto(page: ParticipantPage[tuple[str, ReactionKind]]) -> pb.ReactorPage:
    return pb.ReactorPage(
        post_id=page.post_id, reactors=_reactors(page.items), next_cursor=page.next_cursor
    )


def voter_page_to_proto(page: ParticipantPage[str]) -> pb.VoterPage:
    return pb.VoterPage(
        post_id=page.post_id, voter_alias_ids=page.items, next_cursor=page.next_cursor
    )


def poll_to_proto(view: PollView) -> tpb.Poll:
    message = tpb.Poll(
        post_id=view.post_id,
        options=[
            # `votes` is optional in the proto: unset (not 0) while results are hidden.
            tpb.PollOption(index=o.index, text=o.text, votes=o.votes)
            if o.votes is not None
            else tpb.PollOption(index=o.index, text=o.text)
            for o in view.options
        ],
        viewer_has_voted=view.viewer_has_voted,
        closed=view.closed,
    )
    if view.viewer_option is not None:
        message.viewer_option_index = view.viewer_option
    if view.closes_at is not None:
        message.closes_at.CopyFrom(timestamp(view.closes_at))
    if view.total_votes is not None:
        message.total_votes = view.total_votes
    if view.voters is not None:
        message.voter_alias_ids.extend(view.voters.items)
        message.voters_next_cursor = view.voters.next_cursor
    return message
