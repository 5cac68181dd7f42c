"""Anonymity use cases: aliases per visibility and thread, personas, ownership, erasure.

Callers arrive as verified access-token claims (or None). Who may do what:
- GetOrCreateAlias, CreateThreadScope: a VERIFIED caller, for themself only.
  GetOrCreateAlias is the write check: the gateway asks it for the author alias before
  every post, comment, reaction and vote, and it refuses (FAILED_PRECONDITION) a suspended
  person and an alias a moderator hid;
- BatchDescribeAliases: anyone (personas are public by construction, P5);
- BatchCheckOwnership, BatchGetThreadAliases (thread aliases and ownership in one read):
  the caller about themself only;
- CheckAliasOwners: each token holder about themself only (many people, one alias);
- ListAliases: the person, or an ADMIN with a purpose, the role checked live at identity
  (recorded as an identity access, refusals too);
- EraseUser: the person or an ADMIN; idempotent (identity's PhysicianErased does the same);
  announces nothing (services.anonymity.erasure).
Personas are frozen when the alias is made (services.anonymity.freezing); describing one
opens only the IDENTIFIED alias's display name, inside this service, unrecorded: it
discloses nothing beyond the persona (P5). Ownership is checked by opening the owner seal
of just the asked aliases; listing scans alias rows (see services.anonymity.scan).
"""

from __future__ import annotations

import base64
import hmac
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from plumbing.auth import AccessClaims, Role, VerificationStatus
from plumbing.erasurelog import ErasureLog
from plumbing.errors import (
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
)
from services.anonymity.domain.access import AccessAction, Decision
from services.anonymity.domain.aliases import (
    AliasState,
    StoredAlias,
    UserKey,
    Visibility,
    is_alias_id,
    is_scope_id,
    new_alias_id,
    new_scope_id,
)
from services.anonymity.domain.crypto import CryptoError
from services.anonymity.domain.personas import Persona, describe, unfrozen
from services.anonymity.erasure import erase_person
from services.anonymity.freezing import PersonaFreezer
from services.anonymity.people import ensure_key
from services.anonymity.ports import AnonymityStore, PersonaAttributesSource, StaffCheck
from services.anonymity.recorder import AccessRecorder, denial_reason
from services.anonymity.scan import aliases_of
from services.anonymity.vault import Vault

log = logging.getLogger("consilium.anonymity")

#: Most ids one batch call may carry; the gateway pages well below this.
MAX_BATCH = 500
MAX_PAGE = 100
DEFAULT_PAGE = 50

_SIGN_IN_FIRST = "sign in first: this call needs an access token"
Clock = Callable[[], datetime]


def require_caller(caller: AccessClaims | None) -> AccessClaims:
    if caller is None:
        raise Unauthenticated(_SIGN_IN_FIRST)
    return caller


def require_self(caller: AccessClaims | None, user_id: str) -> AccessClaims:
    actor = require_caller(caller)
    if user_id != actor.user_id:
        raise PermissionDenied("only for your own aliases: user_id must be the signed-in user")
    return actor


def _require_verified(actor: AccessClaims) -> None:
    if actor.verification is not VerificationStatus.VERIFIED:
        raise PermissionDenied("only verified physicians may post; wait for verification")


def check_batch(values: Iterable[str], field: str, limit: int = MAX_BATCH) -> list[str]:
    wanted = list(dict.fromkeys(values))
    if len(wanted) > limit:
        raise InvalidArgument([FieldViolation(field, f"at most {limit} ids per call; split it")])
    return wanted


class AnonymityService:
    """The alias and persona use cases over a store, the vault and identity's attributes."""

    def __init__(
        self,
        store: AnonymityStore,
        vault: Vault,
        attributes: PersonaAttributesSource,
        recorder: AccessRecorder,
        *,
        k: int,
        erasures: ErasureLog,
        live: StaffCheck | None = None,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._live = live
        self._vault = vault
        self._erasures = erasures
        self._recorder = recorder
        self._clock = clock
        self.freezer = PersonaFreezer(store, vault, attributes, k=k)

    async def create_thread_scope(self, caller: AccessClaims | None) -> str:
        _require_verified(require_caller(caller))
        scope_id = new_scope_id()
        async with self._store.transaction() as repo:
            await repo.add_scope(scope_id, self._clock())
        return scope_id

    async def get_or_create_alias(
        self,
        caller: AccessClaims | None,
        user_id: str,
        visibility: Visibility | None,
        scope_id: str,
    ) -> Persona:
        """The caller's alias for `visibility` (and thread `scope_id` when ANONYMOUS)."""
        actor = require_self(caller, user_id)
        _require_verified(actor)
        if visibility is None:
            raise InvalidArgument(
                [FieldViolation("visibility", "choose IDENTIFIED, PSEUDONYMOUS or ANONYMOUS")]
            )
        scope = scope_id if visibility is Visibility.ANONYMOUS else None
        if visibility is Visibility.ANONYMOUS and not is_scope_id(scope_id):
            raise InvalidArgument(
                [
                    FieldViolation(
                        "scope_id", "ANONYMOUS needs a thread scope from CreateThreadScope"
                    )
                ]
            )
        owner_index = self._vault.owner_index(user_id)
        slot = self._vault.slot(user_id, visibility, scope)
        async with self._store.transaction() as repo:
            if scope is not None and not await repo.scope_exists(scope):
                raise NotFound("no thread scope with that id; create one with CreateThreadScope")
            key = await repo.get_user_key(owner_index)
            alias = (await repo.find_by_slots([slot])).get(slot)
        if key is None:
            # Normally made from the person's first identity event; if not, in a transaction
            # of its own, before and apart from the alias row's.
            async with self._store.transaction() as repo:
                key = await ensure_key(repo, self._vault, owner_index, lock=False)
        if key.suspended:
            raise FailedPrecondition("this account is suspended from writing")
        if alias is None:
            alias = await self._create(user_id, owner_index, key, visibility, scope, slot)
        if alias.state is not AliasState.ACTIVE:
            raise FailedPrecondition("a moderator hid this alias; it cannot write any more")
        return (await self._personas([alias]))[alias.alias_id]

    async def _create(
        self,
        user_id: str,
        owner_index: str,
        key: UserKey,
        visibility: Visibility,
        scope: str | None,
        slot: str,
    ) -> StoredAlias:
        data_key = self._vault.data_key(key)
        alias_id = new_alias_id()
        alias = self._vault.new_alias(
            alias_id=alias_id,
            visibility=visibility,
            scope_id=scope,
            created_at=self._clock(),
            slot=slot,
            user_id=user_id,
            owner_index=owner_index,
            data_key=data_key,
        )
        alias = await self.freezer.new_alias(alias, user_id, data_key)
        # The alias row alone: no owner-keyed row is read for update or written here, so
        # nothing the database stamps on rows ties this alias to its owner (finding 5).
        async with self._store.transaction() as repo:
            if await repo.add_alias(alias):
                return alias
            # A concurrent call created the alias for this slot first: that one is the alias.
            return (await repo.find_by_slots([slot]))[slot]

    async def describe_aliases(self, alias_ids: Iterable[str]) -> tuple[list[Persona], list[str]]:
        """Personas of the known ids and the ids that are not aliases here."""
        wanted = check_batch(alias_ids, "alias_ids")
        valid = [a for a in wanted if is_alias_id(a)]
        async with self._store.reading() as repo:
            found = await repo.get_aliases(valid)
        personas = await self._personas(list(found.values()))
        return list(personas.values()), [a for a in wanted if a not in found]

    async def check_ownership(
        self, caller: AccessClaims | None, user_id: str, alias_ids: Iterable[str]
    ) -> list[str]:
        require_self(caller, user_id)
        wanted = [a for a in check_batch(alias_ids, "alias_ids") if is_alias_id(a)]
        async with self._store.reading() as repo:
            return self._owned(user_id, wanted, await repo.get_aliases(wanted))

    def _owned(self, user_id: str, asked: list[str], found: dict[str, StoredAlias]) -> list[str]:
        """Which of `asked` (in order) the caller `user_id` owns among `found` (erased: none)."""
        if not found:
            return []
        owner_index = self._vault.owner_index(user_id)
        return [a for a in asked if a in found and self._vault.owns(found[a], owner_index)]

    async def alias_owners(
        self, alias_id: str, callers: Sequence[AccessClaims | None]
    ) -> list[int]:
        """Positions in `callers` of the people who own `alias_id`: check_ownership asked of
        each (an unverified caller, None, owns nothing), with the owner seal opened once."""
        if len(callers) > MAX_BATCH:
            raise InvalidArgument(
                [FieldViolation("access_tokens", f"at most {MAX_BATCH} per request")]
            )
        if not is_alias_id(alias_id) or not any(callers):
            return []
        async with self._store.reading() as repo:
            alias = (await repo.get_aliases([alias_id])).get(alias_id)
        if alias is None:
            return []
        try:
            owner = self._vault.owner_index_of(alias)
        except CryptoError:
            return []  # erased: nobody owns it any more
        indexes: dict[str, str] = {}  # one blind index per person, however often they ask
        owners: list[int] = []
        for position, caller in enumerate(callers):
            if caller is None:
                continue
            index = indexes.get(caller.user_id)
            if index is None:
                index = indexes[caller.user_id] = self._vault.owner_index(caller.user_id)
            if hmac.compare_digest(index, owner):
                owners.append(position)
        return owners

    async def thread_aliases(
        self,
        caller: AccessClaims | None,
        user_id: str,
        scope_ids: Iterable[str],
        alias_ids: Iterable[str] = (),
    ) -> tuple[dict[str, str], list[str]]:
        """scope id -> the caller's ANONYMOUS alias there, for scopes where they have one;
        and which of `alias_ids` the caller owns (check_ownership), on the same read."""
        require_self(caller, user_id)
        wanted = [s for s in check_batch(scope_ids, "scope_ids") if is_scope_id(s)]
        asked = [a for a in check_batch(alias_ids, "alias_ids") if is_alias_id(a)]
        slots = {self._vault.slot(user_id, Visibility.ANONYMOUS, s): s for s in wanted}
        aliases: dict[str, StoredAlias] = {}
        found: dict[str, str] = {}
        async with self._store.reading() as repo:
            if slots:
                found = await repo.alias_ids_by_slots(slots)
            if asked:
                aliases = await repo.get_aliases(asked)
        owned = self._owned(user_id, asked, aliases)
        return {slots[slot]: alias_id for slot, alias_id in found.items()}, owned

    async def list_aliases(
        self,
        caller: AccessClaims | None,
        user_id: str,
        page_size: int,
        page_token: str,
        *,
        purpose: str = "",
    ) -> tuple[list[tuple[StoredAlias, Persona]], str]:
        """A page of the person's aliases, newest first, and the next page's token."""
        actor = require_caller(caller)
        if user_id != actor.user_id:
            await self._admin_listing(actor, user_id, purpose.strip())
        size = page_size or DEFAULT_PAGE
        if not 0 < size <= MAX_PAGE:
            raise InvalidArgument([FieldViolation("page_size", f"between 1 and {MAX_PAGE}")])
        offset = _offset(page_token)
        async with self._store.transaction() as repo:
            aliases = await aliases_of(repo, self._vault, self._vault.owner_index(user_id))
        aliases.sort(key=lambda a: (a.created_at, a.alias_id), reverse=True)
        page = aliases[offset : offset + size]
        personas = await self._personas(page)
        more = offset + size < len(aliases)
        return [(a, personas[a.alias_id]) for a in page], _token(offset + size) if more else ""

    async def _admin_listing(self, actor: AccessClaims, user_id: str, purpose: str) -> None:
        """Records listing someone else's aliases, GRANTED or DENIED (then raised), first."""
        error: DomainError | None = None
        live = False  # refused by identity's live answer: the reason says why
        if not actor.has_role(Role.ADMIN):
            error = PermissionDenied("only your own aliases, unless you are an ADMIN")
        elif not user_id:
            error = InvalidArgument([FieldViolation("user_id", "is required")])
        elif not purpose:
            error = InvalidArgument(
                [FieldViolation("purpose", "say why, in words an auditor can judge")]
            )
        elif self._live is not None:
            try:
                await self._live.require(actor, Role.ADMIN)
            except (PermissionDenied, Unavailable) as refused:
                error, live = refused, True
        await self._recorder.record(
            actor,
            action=AccessAction.LIST_ALIASES,
            subject=f"person:{self._vault.owner_index(user_id)}" if user_id else "",
            purpose=purpose[:2000],
            decision=Decision.GRANTED if error is None else Decision.DENIED,
            reason=denial_reason(error, live=live) if error is not None else "",
        )
        if error is not None:
            raise error

    async def erase_user(self, caller: AccessClaims | None, user_id: str) -> int:
        """Crypto-shreds the person's mapping; how many aliases were orphaned (0 if repeated)."""
        actor = require_caller(caller)
        if user_id != actor.user_id and not actor.has_role(Role.ADMIN):
            raise PermissionDenied("only the person themself or an ADMIN may erase")
        if not user_id:
            raise InvalidArgument([FieldViolation("user_id", "is required")])
        async with self._store.transaction() as repo:
            owner_index = self._vault.owner_index(user_id)
            ids = await erase_person(repo, self._vault, self._erasures, owner_index)
        log.info("person erased: %d aliases orphaned", len(ids))
        return len(ids)

    async def _personas(self, aliases: list[StoredAlias]) -> dict[str, Persona]:
        names = await self._display_names([a for a in aliases if a.name_ciphertext is not None])
        return {
            a.alias_id: describe(
                a,
                a.persona or unfrozen(a, self._vault.handle_number),
                names.get(a.alias_id),
            )
            for a in aliases
        }

    async def _display_names(self, aliases: list[StoredAlias]) -> dict[str, str]:
        """alias id -> the frozen display name, for aliases whose owner is not erased."""
        indexes: dict[str, str] = {}
        for alias in aliases:
            if alias.orphaned:
                continue
            try:
                indexes[alias.alias_id] = self._vault.owner_index_of(alias)
            except CryptoError:
                # Sealed under a master key no longer in the ring: shown without a name.
                log.warning("an alias owner seal did not open; shown without a name")
        if not indexes:
            return {}
        async with self._store.reading() as repo:
            keys = await repo.get_user_keys(set(indexes.values()))
        names: dict[str, str] = {}
        for alias in aliases:
            key = keys.get(indexes.get(alias.alias_id, ""))
            if key is None:
                continue  # erased since the alias was read: the name is shredded
            try:
                name = self._vault.open_alias_name(alias, self._vault.data_key(key))
            except CryptoError:
                log.warning("an alias display name did not decrypt; shown without it")
                continue
            if name is not None:
                names[alias.alias_id] = name
        return names


def _offset(token: str) -> int:
    if not token:
        return 0
    try:
        value = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("o:"))
    except ValueError:
        value = -1
    if value < 0:
        raise InvalidArgument([FieldViolation("page_token", "not a token from ListAliases")])
    return value


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()
