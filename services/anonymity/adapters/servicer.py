"""The AnonymityService gRPC servicer: convert, call the use case, convert."""

from __future__ import annotations

from typing import Any

from consilium.anonymity.v1 import anonymity_pb2 as pb
from consilium.anonymity.v1 import anonymity_pb2_grpc
from plumbing.auth import AccessClaims
from plumbing.auth.remote import RemoteTokenVerifier
from plumbing.auth.service import RevealGrant, ServiceCredentials, mint_reveal_grant
from plumbing.auth.verified import VerifiedTokens
from plumbing.errors import Unauthenticated, Unavailable
from plumbing.grpc.caller import caller_token
from services.anonymity.adapters.converters import (
    action_from_proto,
    alias_to_proto,
    entry_to_proto,
    persona_to_proto,
    state_to_proto,
    visibility_from_proto,
)
from services.anonymity.domain.access import AccessAction
from services.anonymity.index_reads import IndexReads
from services.anonymity.moderation import ModerationService, access_of
from services.anonymity.service import MAX_BATCH, AnonymityService

Context = Any  # grpc.aio.ServicerContext; unused by these handlers beyond the signature


class AnonymityServicer(anonymity_pb2_grpc.AnonymityServiceServicer):
    """Adapts gRPC calls to the use cases; the caller comes from the bearer token."""

    def __init__(
        self,
        service: AnonymityService,
        moderation: ModerationService,
        authenticator: RemoteTokenVerifier,
        credentials: ServiceCredentials,
        index: IndexReads,
    ) -> None:
        self._service = service
        self._moderation = moderation
        self._index = index
        self._auth = authenticator
        self._tokens = VerifiedTokens(authenticator.claims)
        self._credentials = credentials

    async def _caller(self) -> AccessClaims | None:
        return await self._auth.claims(caller_token())

    async def _staff_caller(
        self, access: AccessAction, alias_id: str, why: str
    ) -> AccessClaims | None:
        # Reveal and act record every attempt, a bad token too: it is refused as
        # unauthenticated after the DENIED record is written. A token that cannot be
        # checked (identity's key set unreachable) is recorded as DENIED too, then refused.
        try:
            return await self._caller()
        except Unauthenticated:
            return None
        except Unavailable as error:
            await self._moderation.refuse_unverifiable(access, alias_id, why, error)
            raise

    async def GetOrCreateAlias(
        self, request: pb.GetOrCreateAliasRequest, context: Context
    ) -> pb.GetOrCreateAliasResponse:
        persona = await self._service.get_or_create_alias(
            await self._caller(),
            request.user_id,
            visibility_from_proto(request.visibility),
            request.scope_id,
        )
        return pb.GetOrCreateAliasResponse(
            alias_id=persona.alias_id, persona=persona_to_proto(persona)
        )

    async def CreateThreadScope(
        self, request: pb.CreateThreadScopeRequest, context: Context
    ) -> pb.CreateThreadScopeResponse:
        scope_id = await self._service.create_thread_scope(await self._caller())
        return pb.CreateThreadScopeResponse(scope_id=scope_id)

    async def BatchDescribeAliases(
        self, request: pb.BatchDescribeAliasesRequest, context: Context
    ) -> pb.BatchDescribeAliasesResponse:
        personas, missing = await self._service.describe_aliases(request.alias_ids)
        return pb.BatchDescribeAliasesResponse(
            personas=[persona_to_proto(p) for p in personas], missing_alias_ids=missing
        )

    async def BatchCheckOwnership(
        self, request: pb.BatchCheckOwnershipRequest, context: Context
    ) -> pb.BatchCheckOwnershipResponse:
        owned = await self._service.check_ownership(
            await self._caller(), request.user_id, request.alias_ids
        )
        return pb.BatchCheckOwnershipResponse(owned_alias_ids=owned)

    async def CheckAliasOwners(
        self, request: pb.CheckAliasOwnersRequest, context: Context
    ) -> pb.CheckAliasOwnersResponse:
        # An expired or forged token asks about nobody.
        callers = [await self._tokens.claims(t) for t in request.access_tokens[: MAX_BATCH + 1]]
        owners = await self._service.alias_owners(request.alias_id, callers)
        return pb.CheckAliasOwnersResponse(owner_positions=owners)

    async def BatchGetThreadAliases(
        self, request: pb.BatchGetThreadAliasesRequest, context: Context
    ) -> pb.BatchGetThreadAliasesResponse:
        found, owned = await self._service.thread_aliases(
            await self._caller(), request.user_id, request.scope_ids, request.alias_ids
        )
        return pb.BatchGetThreadAliasesResponse(
            thread_aliases=[pb.ThreadAlias(scope_id=s, alias_id=a) for s, a in found.items()],
            owned_alias_ids=owned,
        )

    async def ListAliases(
        self, request: pb.ListAliasesRequest, context: Context
    ) -> pb.ListAliasesResponse:
        page, next_token = await self._service.list_aliases(
            await self._caller(),
            request.user_id,
            request.page_size,
            request.page_token,
            purpose=request.purpose,
        )
        return pb.ListAliasesResponse(
            aliases=[alias_to_proto(a, p) for a, p in page], next_page_token=next_token
        )

    async def RevealAlias(
        self, request: pb.RevealAliasRequest, context: Context
    ) -> pb.RevealAliasResponse:
        caller = await self._staff_caller(
            AccessAction.REVEAL_ALIAS, request.alias_id, request.purpose
        )
        revealed = await self._moderation.reveal(caller, request.alias_id, request.purpose)
        assert caller is not None  # reveal refused (and recorded) an anonymous caller
        grant = mint_reveal_grant(
            self._credentials,
            RevealGrant(subject=revealed.user_id, actor=caller.user_id, record=revealed.record_id),
        )
        return pb.RevealAliasResponse(
            user_id=revealed.user_id, audit_event_id=revealed.record_id, reveal_grant=grant
        )

    async def ActOnAlias(
        self, request: pb.ActOnAliasRequest, context: Context
    ) -> pb.ActOnAliasResponse:
        action = action_from_proto(request.action)
        caller = await self._staff_caller(access_of(action), request.alias_id, request.reason)
        acted = await self._moderation.act(caller, request.alias_id, action, request.reason)
        return pb.ActOnAliasResponse(
            state=state_to_proto(acted.state), audit_event_id=acted.record_id
        )

    async def RecordModeration(
        self, request: pb.RecordModerationRequest, context: Context
    ) -> pb.RecordModerationResponse:
        caller = await self._staff_caller(
            AccessAction.MODERATE_CONTENT, request.item_id, f"{request.action}: {request.reason}"
        )
        record_id = await self._moderation.record_content_action(
            caller, request.item_id, request.action, request.reason
        )
        return pb.RecordModerationResponse(audit_event_id=record_id)

    async def EraseUser(
        self, request: pb.EraseUserRequest, context: Context
    ) -> pb.EraseUserResponse:
        count = await self._service.erase_user(await self._caller(), request.user_id)
        return pb.EraseUserResponse(orphaned_alias_count=count)

    async def ListNotifications(
        self, request: pb.ListNotificationsRequest, context: Context
    ) -> pb.ListNotificationsResponse:
        page = await self._index.notifications(
            await self._caller(), request.user_id, request.page_size, request.page_token
        )
        return pb.ListNotificationsResponse(
            entries=[entry_to_proto(e, read_up_to=page.read_up_to) for e in page.entries],
            next_page_token=page.next_token,
            unread_count=page.unread,
            total_count=page.total,
        )

    async def MarkNotificationsRead(
        self, request: pb.MarkNotificationsReadRequest, context: Context
    ) -> pb.MarkNotificationsReadResponse:
        unread = await self._index.mark_read(await self._caller(), request.user_id, request.up_to)
        return pb.MarkNotificationsReadResponse(unread_count=unread)

    async def ListActivity(
        self, request: pb.ListActivityRequest, context: Context
    ) -> pb.ListActivityResponse:
        page = await self._index.activity(
            await self._caller(), request.user_id, request.page_size, request.page_token
        )
        return pb.ListActivityResponse(
            entries=[entry_to_proto(e) for e in page.entries], next_page_token=page.next_token
        )
