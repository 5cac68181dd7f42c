"""Client of the anonymity service: aliases for writing, personas for reading, reveal."""

from __future__ import annotations

from consilium.anonymity.v1 import anonymity_pb2 as pb
from consilium.anonymity.v1 import anonymity_pb2_grpc
from gateway.clients.base import Metadata, UpstreamClient, invoke

_SERVICE = "consilium.anonymity.v1.AnonymityService"
#: Anonymity takes at most this many tokens or ids per call.
MAX_BATCH = 500
_IDEMPOTENT = (
    "GetOrCreateAlias",
    "BatchDescribeAliases",
    "BatchCheckOwnership",
    "CheckAliasOwners",
    "BatchGetThreadAliases",
    "ListAliases",
    "ListNotifications",
    "ListActivity",
)


class AnonymityClient(UpstreamClient):
    service = _SERVICE
    idempotent = _IDEMPOTENT
    stub_class = anonymity_pb2_grpc.AnonymityServiceStub
    _stub: anonymity_pb2_grpc.AnonymityServiceAsyncStub

    async def alias_for(
        self, user_id: str, visibility: int, scope_id: str, metadata: Metadata
    ) -> str:
        request = pb.GetOrCreateAliasRequest(
            user_id=user_id,
            visibility=pb.Visibility.ValueType(visibility),
            scope_id=scope_id,
        )
        return (await invoke(self._stub.GetOrCreateAlias, request, metadata)).alias_id

    async def new_thread_scope(self, metadata: Metadata) -> str:
        reply = await invoke(self._stub.CreateThreadScope, pb.CreateThreadScopeRequest(), metadata)
        return reply.scope_id

    async def describe(self, alias_ids: list[str]) -> dict[str, pb.Persona]:
        reply = await invoke(
            self._stub.BatchDescribeAliases, pb.BatchDescribeAliasesRequest(alias_ids=alias_ids)
        )
        return {p.alias_id: p for p in reply.personas}

    async def owned(self, user_id: str, alias_ids: list[str], metadata: Metadata) -> set[str]:
        request = pb.BatchCheckOwnershipRequest(user_id=user_id, alias_ids=alias_ids)
        reply = await invoke(self._stub.BatchCheckOwnership, request, metadata)
        return set(reply.owned_alias_ids)

    async def alias_owners(self, alias_id: str, tokens: list[str]) -> set[str]:
        """Which of `tokens` (access tokens of signed-in people) belong to an owner of
        `alias_id`: BatchCheckOwnership for many people at once, each by their own token."""
        owners: set[str] = set()
        for start in range(0, len(tokens), MAX_BATCH):
            part = tokens[start : start + MAX_BATCH]
            request = pb.CheckAliasOwnersRequest(alias_id=alias_id, access_tokens=part)
            reply = await invoke(self._stub.CheckAliasOwners, request)
            owners.update(part[p] for p in reply.owner_positions if 0 <= p < len(part))
        return owners

    async def thread_aliases(
        self, user_id: str, scope_ids: list[str], metadata: Metadata
    ) -> dict[str, str]:
        """The caller's thread aliases in `scope_ids` (viewer_aliases, asking no ownership)."""
        return (await self.viewer_aliases(user_id, scope_ids, [], metadata))[0]

    async def viewer_aliases(
        self, user_id: str, scope_ids: list[str], alias_ids: list[str], metadata: Metadata
    ) -> tuple[dict[str, str], set[str]]:
        """BatchGetThreadAliases carrying BatchCheckOwnership's question: the caller's thread
        aliases in `scope_ids` and which of `alias_ids` are theirs, in one call."""
        request = pb.BatchGetThreadAliasesRequest(
            user_id=user_id, scope_ids=scope_ids, alias_ids=alias_ids
        )
        reply = await invoke(self._stub.BatchGetThreadAliases, request, metadata)
        threads = {t.scope_id: t.alias_id for t in reply.thread_aliases}
        return threads, set(reply.owned_alias_ids)

    async def reveal(
        self, alias_id: str, purpose: str, metadata: Metadata
    ) -> pb.RevealAliasResponse:
        request = pb.RevealAliasRequest(alias_id=alias_id, purpose=purpose)
        return await invoke(self._stub.RevealAlias, request, metadata)

    async def act(
        self, alias_id: str, action: pb.AliasAction.ValueType, reason: str, metadata: Metadata
    ) -> int:
        """ActOnAlias: SUSPEND, REINSTATE, HIDE or UNHIDE one alias; the alias's new state.

        Not retried: an action is recorded each time it is asked for, and the caller should
        see whether it was refused rather than have it asked again on their behalf.
        """
        request = pb.ActOnAliasRequest(alias_id=alias_id, action=action, reason=reason)
        return int((await invoke(self._stub.ActOnAlias, request, metadata)).state)

    async def notifications(
        self, user_id: str, first: int, after: str, metadata: Metadata
    ) -> pb.ListNotificationsResponse:
        request = pb.ListNotificationsRequest(user_id=user_id, page_size=first, page_token=after)
        return await invoke(self._stub.ListNotifications, request, metadata)

    async def mark_notifications_read(self, user_id: str, up_to: str, metadata: Metadata) -> int:
        request = pb.MarkNotificationsReadRequest(user_id=user_id, up_to=up_to)
        return (await invoke(self._stub.MarkNotificationsRead, request, metadata)).unread_count

    async def activity(
        self, user_id: str, first: int, after: str, metadata: Metadata
    ) -> pb.ListActivityResponse:
        request = pb.ListActivityRequest(user_id=user_id, page_size=first, page_token=after)
        return await invoke(self._stub.ListActivity, request, metadata)

    async def record_moderation(
        self, item_id: str, action: str, reason: str, metadata: Metadata
    ) -> str:
        """RecordModeration: the audit record of a moderator's action on a post or comment,
        written before content applies it. Not retried: each attempt is recorded."""
        request = pb.RecordModerationRequest(item_id=item_id, action=action, reason=reason)
        return (await invoke(self._stub.RecordModeration, request, metadata)).audit_event_id
