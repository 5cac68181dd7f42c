"""Anonymity's erasure log: written before the erasure commits, replayed before serving."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from plumbing.auth import AccessClaims, Role, VerificationStatus
from plumbing.erasurelog import ErasureLog
from services.anonymity import app
from services.anonymity.domain.crypto import MasterKeys, new_key
from services.anonymity.domain.events import PhysicianErased
from services.anonymity.erasure import replay_erasures
from services.anonymity.people import PhysicianFeed
from services.anonymity.service import AnonymityService
from services.anonymity.settings import AnonymitySettings
from services.anonymity.vault import Vault

USER = "usr_abcdefghijklmnopqrstuvwxyz"


class JournaledLog(ErasureLog):
    """The real log, also noting in `steps` when a line went to disk."""

    def __init__(self, path: Path, steps: list[str]) -> None:
        super().__init__(path)
        self.steps = steps

    async def record(self, index: str, *, now: datetime | None = None) -> None:
        await super().record(index, now=now)
        self.steps.append(f"logged {index}")


class FakeRepo:
    """Just enough of AliasRepository for erasure: data keys, no person records, no aliases."""

    def __init__(self, keys: set[str], steps: list[str]) -> None:
        self.keys = keys
        self.steps = steps

    async def get_user_key(self, owner_index: str, *, for_update: bool = False) -> object:
        return object() if owner_index in self.keys else None

    async def get_user_keys(self, owner_indexes: Iterable[str]) -> dict[str, object]:
        return {i: object() for i in owner_indexes if i in self.keys}

    async def get_people(self, owner_indexes: Iterable[str]) -> dict[str, object]:
        return {}

    async def owned_aliases_after(self, after: str, limit: int) -> list[object]:
        return []

    async def delete_user_key(self, owner_index: str) -> None:
        self.keys.discard(owner_index)
        self.steps.append(f"shredded {owner_index}")


class FakeStore:
    def __init__(self, keys: set[str], steps: list[str]) -> None:
        self.repo = FakeRepo(keys, steps)
        self.steps = steps

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[FakeRepo]:
        yield self.repo
        self.steps.append("committed")


@pytest.fixture
def vault() -> Vault:
    return Vault(MasterKeys(keys={"k": new_key()}, active_kid="k", index_key=new_key()))


def claims(user_id: str) -> AccessClaims:
    now = datetime.now(UTC)
    return AccessClaims(
        user_id=user_id,
        roles=frozenset({Role.MEMBER}),
        verification=VerificationStatus.VERIFIED,
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
        key_id="test",
    )


async def test_erase_user_logs_the_owner_index_before_the_erasure_commits(
    vault: Vault, tmp_path: Path
) -> None:
    steps: list[str] = []
    index = vault.owner_index(USER)
    store = FakeStore({index}, steps)
    erasures = JournaledLog(tmp_path / "erasure-log.jsonl", steps)
    service = AnonymityService(
        store,  # type: ignore[arg-type]
        vault,
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        k=3,
        erasures=erasures,
    )
    await service.erase_user(claims(USER), USER)
    assert steps == [f"logged {index}", f"shredded {index}", "committed"]
    assert erasures.indexes() == {index}
    assert USER.encode() not in erasures.path.read_bytes()


async def test_physician_erased_logs_the_owner_index_before_the_erasure_commits(
    vault: Vault, tmp_path: Path
) -> None:
    steps: list[str] = []
    index = vault.owner_index(USER)
    store = FakeStore({index}, steps)
    feed = PhysicianFeed(
        vault, JournaledLog(tmp_path / "erasure-log.jsonl", steps), clock=lambda: datetime.now(UTC)
    )
    async with store.transaction() as repo:
        await feed.apply(repo, PhysicianErased(USER))  # type: ignore[arg-type]
    assert steps == [f"logged {index}", f"shredded {index}", "committed"]


async def test_replay_shreds_only_logged_people_still_holding_a_key_and_is_idempotent(
    vault: Vault, tmp_path: Path
) -> None:
    steps: list[str] = []
    erased, restored, alive = (vault.owner_index(f"usr_{c * 26}") for c in "abc")
    store = FakeStore({restored, alive}, steps)
    erasures = ErasureLog(tmp_path / "erasure-log.jsonl")
    for index in (erased, restored):
        await erasures.record(index)
    assert await replay_erasures(store, vault, erasures) == 1  # type: ignore[arg-type]
    assert store.repo.keys == {alive}
    assert f"shredded {restored}" in steps and f"shredded {erased}" not in steps
    assert await replay_erasures(store, vault, erasures) == 0  # type: ignore[arg-type]


async def test_serve_replays_the_log_before_anything_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = AnonymitySettings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'anonymity.db'}",
        port=0,
        kafka_bootstrap=None,
    )
    steps: list[str] = []
    real_replay = app.replay_erasures

    async def replay(store: Any, vault: Vault, erasures: ErasureLog) -> int:
        assert erasures.path == settings.data_dir / "anonymity" / "erasure-log.jsonl"
        steps.append("replayed")
        return await real_replay(store, vault, erasures)

    async def serve_until_signalled(server: Any, events: Any, _settings: Any) -> None:
        assert server.port == 0, "not bound yet: serving starts here"
        steps.append("served")

    monkeypatch.setattr(app, "load_settings", lambda *_, **__: settings)
    monkeypatch.setattr(app, "start_process", lambda _: None)
    monkeypatch.setattr(app, "replay_erasures", replay)
    monkeypatch.setattr(app, "serve_until_signalled", serve_until_signalled)
    await app.serve()
    assert steps == ["replayed", "served"]


def test_the_erasure_log_defaults_to_the_data_dir_and_can_be_moved(tmp_path: Path) -> None:
    settings = AnonymitySettings(data_dir=tmp_path)
    assert settings.resolved_erasure_log == tmp_path / "anonymity" / "erasure-log.jsonl"
    moved = AnonymitySettings(data_dir=tmp_path, erasure_log=tmp_path / "elsewhere.jsonl")
    assert moved.resolved_erasure_log == tmp_path / "elsewhere.jsonl"
