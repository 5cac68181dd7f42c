"""The audit use cases with fakes: who may read, page sizes and tokens, chain verification."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from consilium.audit.v1 import audit_pb2 as pb
from plumbing.auditchain import GENESIS, link
from plumbing.auth import AccessClaims, Role, VerificationStatus
from plumbing.errors import InvalidArgument, PermissionDenied, Unauthenticated
from services.audit.domain.query import MAX_PAGE_SIZE, Cursor, EventFilter, micros, page_size
from services.audit.ports import Page
from services.audit.service import AuditService

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def claims(*roles: Role) -> AccessClaims:
    return AccessClaims(
        user_id="usr_1",
        roles=frozenset({Role.MEMBER, *roles}),
        verification=VerificationStatus.VERIFIED,
        issued_at=NOW,
        expires_at=NOW + timedelta(minutes=15),
        key_id="kid",
    )


class FakeLedger:
    def __init__(self, chains: dict[str, list[pb.AuditEvent]]) -> None:
        self.chains = chains
        self.queries: list[tuple[EventFilter, Cursor | None, int]] = []

    async def query(self, where: EventFilter, *, after: Cursor | None, limit: int) -> Page:
        self.queries.append((where, after, limit))
        return Page(events=[], next=None)

    async def producers(self) -> list[str]:
        return sorted(self.chains)

    async def chain(self, producer: str) -> Sequence[Any]:
        return self.chains.get(producer, [])

    async def rotations(self, producer: str) -> Sequence[Any]:
        return [e for e in self.chains.get(producer, []) if e.action == pb.ACTION_KEY_ROTATED]


class FakeKeys:
    def __init__(self, keys: dict[str, Ed25519PublicKey]) -> None:
        self._keys = keys
        self.asked: list[set[str]] = []

    async def keys(self, key_ids: Iterable[str]) -> Mapping[str, Ed25519PublicKey]:
        self.asked.append(set(key_ids))
        return self._keys


def chain(length: int, key: Ed25519PrivateKey, kid: str) -> list[pb.AuditEvent]:
    events, prev = [], GENESIS
    for n in range(1, length + 1):
        event = pb.AuditEvent(event_id=f"e{n}", producer="anonymity")
        prev = link(event, sequence=n, prev_hash=prev, key=key, key_id=kid)
        events.append(event)
    return events


@pytest.mark.parametrize("caller", [None, claims(), claims(Role.MODERATOR, Role.ADMIN)])
async def test_only_auditors_query_or_verify(caller: AccessClaims | None) -> None:
    service = AuditService(FakeLedger({}), FakeKeys({}))
    expected = Unauthenticated if caller is None else PermissionDenied
    with pytest.raises(expected):
        await service.query(caller, EventFilter(), size=0, page_token="")
    with pytest.raises(expected):
        await service.verify(caller)


async def test_queries_get_a_bounded_page_and_the_decoded_cursor() -> None:
    ledger = FakeLedger({})
    service = AuditService(ledger, FakeKeys({}))
    token = Cursor(micros(NOW), "evt_9").encode()

    await service.query(claims(Role.AUDITOR), EventFilter(), size=0, page_token="")
    await service.query(claims(Role.AUDITOR), EventFilter(), size=10_000, page_token=token)

    assert [(after, limit) for _, after, limit in ledger.queries] == [
        (None, 50),
        (Cursor(micros(NOW), "evt_9"), MAX_PAGE_SIZE),
    ]


def test_page_sizes() -> None:
    assert page_size(-1) == 50
    assert page_size(7) == 7
    assert page_size(MAX_PAGE_SIZE + 1) == MAX_PAGE_SIZE


@pytest.mark.parametrize("token", ["", "@@@", "bm8tY29sb24", "YWJjOmRlZg"])
def test_foreign_page_tokens_are_bad_arguments(token: str) -> None:
    with pytest.raises(InvalidArgument):
        Cursor.decode(token)


async def test_verification_reports_each_producer_with_its_keys() -> None:
    key = Ed25519PrivateKey.generate()
    good = chain(3, key, "k1")
    broken = chain(3, key, "k1")
    broken[1].purpose = "edited"
    keys = FakeKeys({"k1": key.public_key()})
    service = AuditService(FakeLedger({"identity": good, "anonymity": broken}), keys)

    reports = await service.verify(claims(Role.AUDITOR))

    assert [(r.producer, r.verdict.ok) for r in reports] == [
        ("anonymity", False),
        ("identity", True),
    ]
    assert [p.kind for p in reports[0].verdict.problems] == ["HASH_MISMATCH"]
    assert keys.asked == [{"k1"}, {"k1"}]
