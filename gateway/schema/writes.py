"""What every alias-bearing write needs first: the post it acts on and the one alias to send.

A write sends content exactly one of the viewer's aliases: the thread alias (reactions,
votes), the chosen visibility's alias (new posts and comments), or, for an author's change
to what they wrote, the alias the record was written under, once anonymity has confirmed
it is the viewer's. Content checks that alias against the record; it never gets a user id.
"""

from __future__ import annotations

import asyncio

import strawberry

from consilium.content.v1 import types_pb2 as ctypes
from gateway.context import Info
from gateway.schema.types.enums import (
    AGE_BAND,
    SEX,
    VISIBILITY,
    AgeBand,
    Sex,
    Visibility,
    to_proto,
)

# The post and comment every write acts on: the one "missing or hidden" rule (visible.py),
# named here too because the write modules import their helpers from this one.
from gateway.schema.visible import readable_comment as readable_comment
from gateway.schema.visible import readable_post as readable_post
from plumbing.errors import PermissionDenied


@strawberry.input
class CaseInput:
    age_band: AgeBand
    sex: Sex
    presenting_complaint: str
    history: str = ""
    question: str
    specialty_tags: list[str] = strawberry.field(default_factory=list)


def case_to_proto(case: CaseInput | None) -> ctypes.CaseInput | None:
    if case is None:
        return None
    return ctypes.CaseInput(
        age_band=to_proto(case.age_band, AGE_BAND),  # type: ignore[arg-type]
        sex=to_proto(case.sex, SEX),  # type: ignore[arg-type]
        presenting_complaint=case.presenting_complaint,
        history=case.history,
        question=case.question,
        specialty_tags=case.specialty_tags,
    )


async def thread_alias(info: Info, post: ctypes.Post) -> str:
    """The viewer's ANONYMOUS alias of this thread: reactions and votes never link threads."""
    viewer = info.context.auth.require()
    return await info.context.upstreams.anonymity.alias_for(
        viewer.user_id,
        to_proto(Visibility.ANONYMOUS, VISIBILITY),
        post.thread_scope_id,
        viewer.metadata,
    )


async def author_alias(info: Info, written_by: str, thread_scope_id: str, action: str) -> str:
    """The alias `written_by` once anonymity confirms it is the viewer's and may still write.

    Ownership first (BatchCheckOwnership, the `viewerIsAuthor` check): a non-author is
    refused here, and no alias of theirs is made or sent. Then anonymity's write check for
    that alias (GetOrCreateAlias with its visibility and the thread's scope), which refuses
    a suspended person or a hidden alias; content checks the alias against the record again.
    """
    viewer = info.context.auth.require().require_verified()
    loaders = info.context.loaders
    owned, persona = await asyncio.gather(
        loaders.owned.load(written_by), loaders.personas.load(written_by)
    )
    if not owned or persona is None:
        raise PermissionDenied(f"only the author may {action}, under the alias they wrote with")
    return await info.context.upstreams.anonymity.alias_for(
        viewer.user_id, persona.visibility, thread_scope_id, viewer.metadata
    )
