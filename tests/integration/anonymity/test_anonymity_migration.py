"""Migration 0004 on data written before it: directory dropped, personas frozen as they were.

Rows are written the way the previous code wrote them (alias directory, user key creation
times, no frozen persona), on SQLite and PostgreSQL; then the service starts, migrates and
runs `freeze_existing_personas`, and the aliases show the faces they showed before.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

from anonymity_harness import CARDIOLOGY, TEST_K, anonymity_settings, running_anonymity
from sqlalchemy import inspect, text

from consilium.anonymity.v1 import anonymity_pb2 as pb
from plumbing import db
from plumbing.auth import VerificationStatus
from services.anonymity.app import MIGRATIONS
from services.anonymity.domain.aliases import Visibility, new_alias_id
from services.anonymity.domain.crypto import MasterKeys, length_prefixed
from services.anonymity.domain.crypto import encrypt as aead
from services.anonymity.domain.people import PersonRecord
from services.anonymity.vault import Vault
from services.identity.app import Identity

KEYS = MasterKeys(keys={"k1": b"\x05" * 32}, active_kid="k1", index_key=b"\x06" * 32)
USER = "usr_legacycanary0000000000000"
NAME = "Dr Legacy Canaryholm"


def _keys_json() -> str:
    return json.dumps(
        {
            "active_kid": KEYS.active_kid,
            "keys": {k: base64.b64encode(v).decode() for k, v in KEYS.keys.items()},
            "index_key": base64.b64encode(KEYS.index_key).decode(),
        }
    )


async def _write_rows_as_before(url: str) -> dict[Visibility, str]:
    """One VERIFIED cardiologist with two aliases, stored by the schema of revision 0003."""
    engine = db.create_engine(url)
    vault = Vault(KEYS)
    owner_index = vault.owner_index(USER)
    key, data_key = vault.new_user_key(owner_index)
    person = vault.seal_person(
        owner_index, data_key, PersonRecord(VerificationStatus.VERIFIED, CARDIOLOGY, NAME)
    )
    now = datetime.now(UTC)
    made: dict[Visibility, str] = {}
    try:
        await db.migrate(engine, MIGRATIONS, "0003")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO user_keys (owner_index, kid, wrapped_key, suspended, created_at)"
                    " VALUES (:o, :k, :w, false, :t)"
                ),
                {"o": owner_index, "k": key.kid, "w": key.wrapped_key, "t": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO person_records (owner_index, kid, sealed, name_ciphertext,"
                    " updated_at) VALUES (:o, :k, :s, :n, :t)"
                ),
                {
                    "o": owner_index,
                    "k": person.kid,
                    "s": person.sealed,
                    "n": person.name_ciphertext,
                    "t": now,
                },
            )
            await conn.execute(
                text("INSERT INTO verified_counts (specialty_code, verified) VALUES (:c, :v)"),
                {"c": CARDIOLOGY, "v": TEST_K},
            )
            for visibility in (Visibility.IDENTIFIED, Visibility.PSEUDONYMOUS):
                alias = vault.new_alias(
                    alias_id=new_alias_id(),
                    visibility=visibility,
                    scope_id=None,
                    created_at=now,
                    slot=vault.slot(USER, visibility, None),
                    user_id=USER,
                    owner_index=owner_index,
                    data_key=data_key,
                )
                made[visibility] = alias.alias_id
                await conn.execute(
                    text(
                        "INSERT INTO aliases (alias_id, visibility, scope_id, state, created_at,"
                        " slot, owner_seal_kid, owner_sealed, owner_ciphertext) VALUES"
                        " (:a, :v, NULL, 'ACTIVE', :t, :s, :k, :os, :oc)"
                    ),
                    {
                        "a": alias.alias_id,
                        "v": visibility.value,
                        "t": now,
                        "s": alias.slot,
                        "k": alias.owner_seal_kid,
                        "os": alias.owner_sealed,
                        "oc": alias.owner_ciphertext,
                    },
                )
                entry = aead(
                    data_key, alias.alias_id.encode(), aad=length_prefixed("dir", owner_index)
                )
                await conn.execute(
                    text("INSERT INTO alias_directory (owner_index, ciphertext) VALUES (:o, :c)"),
                    {"o": owner_index, "c": entry},
                )
    finally:
        await engine.dispose()
    return made


async def test_upgrade_drops_the_directory_and_freezes_personas_as_they_were(
    database_url: str, data_dir: Path, identity_server: Identity
) -> None:
    made = await _write_rows_as_before(database_url)
    settings = anonymity_settings(database_url, data_dir, identity_server, master_keys=_keys_json())
    async with running_anonymity(settings, identity_server) as stack:
        named, handle = made[Visibility.IDENTIFIED], made[Visibility.PSEUDONYMOUS]
        personas = await stack.describe(named, handle)
        assert personas[named].display_name == NAME
        assert not personas[handle].HasField("display_name")
        for persona in personas.values():
            assert persona.verified_physician and persona.specialty.code == CARDIOLOGY
            assert persona.handle.startswith("Anonymous Cardiologist ")
            assert persona.state == pb.ALIAS_STATE_ACTIVE
        rows = {r["alias_id"]: r for r in await stack.rows("aliases")}
        assert all(rows[a]["persona_handle"] for a in made.values()), "frozen at startup"
        assert (
            rows[named]["name_ciphertext"] and NAME.encode() not in rows[named]["name_ciphertext"]
        )
        async with stack.instance.engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
            key_columns = await conn.run_sync(
                lambda sync: [c["name"] for c in inspect(sync).get_columns("user_keys")]
            )
        assert "alias_directory" not in tables
        assert "created_at" not in key_columns
        [record] = await stack.rows("person_records")
        stamp = record["updated_at"]
        if isinstance(stamp, str):  # SQLite hands raw text for a plain SELECT
            stamp = datetime.fromisoformat(stamp)
        assert (stamp.hour, stamp.minute, stamp.second, stamp.microsecond) == (0, 0, 0, 0)
