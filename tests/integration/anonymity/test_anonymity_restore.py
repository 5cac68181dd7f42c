"""A restore cannot undo an erasure (P6): the erasure log is replayed before anonymity serves.

A backup of anonymity's database taken before an erasure holds the person's data key, and
with it the alias -> person mapping and the IDENTIFIED alias's display name. Restored alone,
it must not answer for that person again: at start, before the gRPC server comes up, every
owner index in the erasure log that the database still holds a key or record for is erased
again, exactly as erasure does.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from anonymity_harness import FakeAccounts, anonymity_settings, rpc_error, running_anonymity
from sqlalchemy import text
from support.backups import Backups
from support.service_channel import service_channel

from consilium.anonymity.v1 import anonymity_pb2 as pb
from consilium.anonymity.v1 import anonymity_pb2_grpc
from plumbing import db
from plumbing.auth import Role
from plumbing.events.embedded import EmbeddedBus
from plumbing.events.factory import embedded_path
from services.anonymity.app import Anonymity, build
from services.anonymity.settings import AnonymitySettings
from services.anonymity.vault import Vault
from services.identity.app import Identity


@pytest.fixture
def backups(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Backups:
    url = database_url
    admin = request.getfixturevalue("postgres_url") if url.startswith("postgresql") else None
    return Backups(url, admin, tmp_path)


async def owner_indexes(url: str) -> set[str]:
    """The blind indexes that hold a data key or a person record, read straight off the DB."""
    engine = db.create_engine(url)
    try:
        async with engine.connect() as conn:
            keys = (await conn.scalars(text("SELECT owner_index FROM user_keys"))).all()
            people = (await conn.scalars(text("SELECT owner_index FROM person_records"))).all()
        return {*keys, *people}
    finally:
        await engine.dispose()


def built(settings: AnonymitySettings) -> object:
    return build(
        settings, accounts=FakeAccounts(), bus=EmbeddedBus(embedded_path(settings.data_dir))
    )


async def test_a_restore_from_backup_erases_the_person_again_before_serving(
    database_url: str, data_dir: Path, identity_server: Identity, backups: Backups
) -> None:
    settings = anonymity_settings(database_url, data_dir, identity_server)
    async with running_anonymity(settings, identity_server) as stack:
        doctor = await stack.physician(full_name="Dr Restorina Canaryvale")
        bystander = await stack.physician()
        admin = await stack.staff(Role.ADMIN)
        thread = await stack.scope(doctor)
        named = (await stack.alias(doctor, pb.VISIBILITY_IDENTIFIED)).alias_id
        pseudonym = (await stack.alias(doctor, pb.VISIBILITY_PSEUDONYMOUS)).alias_id
        hidden = (await stack.alias(doctor, pb.VISIBILITY_ANONYMOUS, thread)).alias_id
        theirs = (await stack.alias(bystander, pb.VISIBILITY_IDENTIFIED)).alias_id
        mine = [named, pseudonym, hidden]
        assert (await stack.describe(named))[named].display_name == "Dr Restorina Canaryvale"
    vault = Vault(stack.instance.keys)
    index = vault.owner_index(doctor.user_id)
    await backups.backup()
    async with running_anonymity(settings, identity_server) as stack:
        erased = await stack.anonymity.EraseUser(
            pb.EraseUserRequest(user_id=doctor.user_id), metadata=doctor.metadata
        )
        assert erased.orphaned_alias_count == 3
    assert index not in await owner_indexes(backups.url)
    await backups.restore()
    # The backup brought the person's data key (and so the mapping) back.
    assert index in await owner_indexes(backups.url)

    instance: Anonymity
    async with built(settings) as instance:  # type: ignore[attr-defined]
        # Built, not yet serving: the replay has already run.
        assert index not in await owner_indexes(backups.url)
        async with instance.store.transaction() as repo:
            stored = await repo.get_aliases([*mine, theirs])
        assert not any(vault.owns(stored[a], index) for a in mine)
        assert vault.owns(stored[theirs], vault.owner_index(bystander.user_id))

        port = await instance.server.start()
        try:
            # Anonymity admits the gateway alone: ask as the gateway would.
            async with service_channel(
                f"127.0.0.1:{port}", settings.data_dir, audience="anonymity"
            ) as channel:
                anonymity = anonymity_pb2_grpc.AnonymityServiceStub(channel)
                owned = await anonymity.BatchCheckOwnership(
                    pb.BatchCheckOwnershipRequest(user_id=doctor.user_id, alias_ids=mine),
                    metadata=doctor.metadata,
                )
                assert list(owned.owned_alias_ids) == []
                for alias in mine:
                    error = await rpc_error(
                        anonymity.RevealAlias(
                            pb.RevealAliasRequest(alias_id=alias, purpose="after a restore"),
                            metadata=admin.metadata,
                        )
                    )
                    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
                    assert doctor.user_id not in (error.details() or "")
                personas = await anonymity.BatchDescribeAliases(
                    pb.BatchDescribeAliasesRequest(alias_ids=[named, theirs])
                )
                faces = {p.alias_id: p for p in personas.personas}
                assert not faces[named].HasField("display_name")
                assert faces[theirs].HasField("display_name"), "the bystander is untouched"
        finally:
            await instance.server.stop()

    # Starting again finds nothing left to erase, and the log names nobody.
    async with built(settings):  # type: ignore[attr-defined]
        pass
    log = (data_dir / "anonymity" / "erasure-log.jsonl").read_bytes()
    assert index.encode() in log
    for secret in (doctor.user_id, doctor.full_name, doctor.email, *mine):
        assert secret.encode() not in log
