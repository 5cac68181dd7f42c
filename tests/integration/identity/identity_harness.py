"""Test helpers for talking to an identity server: accounts in known states, valid NPIs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from support.accounts import PASSWORD, next_npi, store_account

from consilium.identity.v1 import identity_pb2 as pb
from consilium.identity.v1 import identity_pb2_grpc
from plumbing.events.bus import EventBus
from plumbing.grpc.caller import bearer_metadata
from services.identity.app import Identity, build
from services.identity.domain.physician import Role, new_user_id
from services.identity.settings import IdentitySettings


@dataclass
class IdentityClient:
    """A stub plus the running instance, with helpers for accounts in known states."""

    stub: identity_pb2_grpc.IdentityServiceStub
    channel: grpc.aio.Channel
    instance: Identity

    async def register(self, **overrides: str) -> pb.Physician:
        fields = {
            "email": f"{new_user_id()[4:14]}@example.org",
            "password": PASSWORD,
            "full_name": "Dr. Test Person",
            "npi": next_npi(),
            "specialty_code": "207RC0000X",
            "country": "US",
        }
        fields.update(overrides)
        reply = await self.stub.Register(pb.RegisterRequest(**fields))
        return reply.physician

    async def login(self, email: str, password: str = PASSWORD) -> str:
        reply = await self.stub.Login(pb.LoginRequest(email=email, password=password))
        return reply.access_token

    async def member(self) -> tuple[pb.Physician, tuple[tuple[str, str], ...]]:
        """A fresh PENDING member and the metadata that authenticates as them."""
        physician = await self.register()
        return physician, bearer_metadata(await self.login(physician.email))

    async def staff(self, role: Role) -> tuple[str, tuple[tuple[str, str], ...]]:
        """A VERIFIED account holding `role`, stored directly (bootstrap: no admin exists)."""
        user_id, email = await store_account(self.instance.store, role)
        return user_id, bearer_metadata(await self.login(email))


@asynccontextmanager
async def running(
    settings: IdentitySettings,
    *,
    bus: EventBus | None = None,
    clock: Callable[[], datetime] | None = None,
) -> AsyncIterator[IdentityClient]:
    """An identity server on an ephemeral port and a client for it; the event runtime idle."""
    async with build(settings, bus=bus, clock=clock) as instance:
        port = await instance.server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                yield IdentityClient(
                    identity_pb2_grpc.IdentityServiceStub(channel), channel, instance
                )
        finally:
            await instance.server.stop()


def violations(error: grpc.aio.AioRpcError) -> list[str]:
    """The field names in the google.rpc.BadRequest detail of a failed call."""
    status = rpc_status.from_call(error)
    assert status is not None, "the error carries no google.rpc.Status details"
    fields: list[str] = []
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            fields.extend(v.field for v in bad_request.field_violations)
    return fields
