"""Test helpers for talking to a content server: posts of each kind, errors and their fields."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from consilium.content.v1 import content_pb2 as pb
from consilium.content.v1 import content_pb2_grpc
from consilium.content.v1 import types_pb2 as tpb
from services.content.app import Content


def alias() -> str:
    """A made-up alias id in anonymity's opaque form (content never sees anything else)."""
    return "als_" + secrets.token_hex(10)


CASE = tpb.CaseInput(
    age_band=tpb.AGE_BAND_OLDER_ADULT,
    sex=tpb.SEX_FEMALE,
    presenting_complaint="Exertional dyspnoea and ankle oedema for three weeks",
    history="HFrEF with EF 30%, T2DM, CKD stage 3b; on sacubitril/valsartan 49/51 mg bid",
    question="Would you start an SGLT2 inhibitor with eGFR 28?",
    specialty_tags=["207RC0000X"],
)


@dataclass
class ContentClient:
    """A stub plus the running instance, with helpers for posts in known states."""

    stub: content_pb2_grpc.ContentServiceStub
    instance: Content

    async def post(self, **fields: Any) -> tpb.Post:
        """A DISCUSSION in the lounge unless `fields` say otherwise."""
        request: dict[str, Any] = {
            "kind": tpb.POST_KIND_DISCUSSION,
            "community_id": "lounge-stories",
            "thread_scope_id": "scp_" + secrets.token_hex(8),
            "author_alias_id": alias(),
            "title": "A night shift to remember",
            "body": "Four codes before midnight and the coffee machine broke.",
        }
        request.update(fields)
        reply = await self.stub.CreatePost(pb.CreatePostRequest(**request))
        return reply.post

    async def case(self, **fields: Any) -> tpb.Post:
        defaults: dict[str, Any] = {
            "kind": tpb.POST_KIND_CASE,
            "community_id": "cardiology",
            "title": "SGLT2 inhibitor in advanced CKD?",
            "body": "Looking for experience with late-stage kidney disease.",
            "case": CASE,
        }
        return await self.post(**(defaults | fields))

    async def poll(
        self, options: tuple[str, ...] = ("Yes", "No", "Depends"), **fields: Any
    ) -> tpb.Post:
        defaults: dict[str, Any] = {
            "kind": tpb.POST_KIND_POLL,
            "community_id": "lounge-careers",
            "title": "Would you take a four-day week for less pay?",
            "body": "",
            "poll_options": list(options),
        }
        return await self.post(**(defaults | fields))


async def rpc_error(call: Awaitable[Any]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


def violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    """Field -> description from the google.rpc.BadRequest detail of a failed call."""
    status = rpc_status.from_call(error)
    assert status is not None, "the error carries no google.rpc.Status details"
    found: dict[str, str] = {}
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            for v in bad_request.field_violations:
                found.setdefault(v.field, v.description)
    return found
