"""What the adversary tests read off a recorded content call: its strings, its aliases, its trace.

Shared by the tests that put a recording servicer in front of content
(`support.recording.record_servers`) and ask whether any call or request carried two aliases
of one person; `owned_by` asks anonymity, which knows, which of them are the person's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from google.protobuf.message import Message

from gateway.clients.anonymity import AnonymityClient
from plumbing.auth.service import ServiceCredentials
from plumbing.grpc.caller import bearer_metadata
from support.recording import Received
from support.system import System

#: The recorded service's name, for `RecordingInterceptor.to`.
CONTENT = "consilium.content.v1.ContentService"


def strings(message: Message) -> Iterator[str]:
    """Every string anywhere in a request, nested messages and repeated fields included."""
    for _field, value in message.ListFields():
        values = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        for item in values:
            if isinstance(item, Message):
                yield from strings(item)
            elif isinstance(item, str):
                yield item


def aliases_in(call: Received) -> set[str]:
    return {s for s in strings(call.request) if s.startswith("als_")}


def trace_of(call: Received) -> str:
    (parent,) = [str(v) for k, v in call.metadata if k == "traceparent"]
    return parent.split("-")[1]


async def owned_by(system: System, user_id: str, token: str, aliases: set[str]) -> set[str]:
    """Which of `aliases` belong to the person: anonymity knows, content must never learn."""
    # Anonymity admits the gateway alone: the test asks as the gateway would.
    credentials = ServiceCredentials.load("gateway", system.data_dir, environ={})
    client = AnonymityClient(
        f"127.0.0.1:{system.anonymity.server.port}",
        deadline=5,
        service_token=lambda: credentials.metadata(audience="anonymity"),
    )
    try:
        return await client.owned(user_id, sorted(aliases), bearer_metadata(token))
    finally:
        await client.close()
