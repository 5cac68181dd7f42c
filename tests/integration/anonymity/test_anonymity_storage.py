"""Storage over real gRPC: nothing personal in clear; data survives master-key rotation."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from anonymity_harness import Person, Stack, anonymity_settings, running_anonymity
from sqlalchemy import inspect

from consilium.anonymity.v1 import anonymity_pb2 as pb
from plumbing.auth import Role
from services.identity.app import Identity


async def _all_values(stack: Stack) -> list[Any]:
    async with stack.instance.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    values: list[Any] = []
    for table in tables:
        for row in await stack.rows(table):
            values.extend(row.values())
    return values


def _needles(person: Person) -> list[bytes]:
    return [s.encode() for s in (person.user_id, person.email, person.full_name)]


async def test_database_holds_no_user_id_email_or_name(stack: Stack, database_url: str) -> None:
    people = [await stack.physician(full_name=f"Dr Canary Nestor{i}") for i in range(3)]
    moderator = await stack.staff(Role.MODERATOR)
    admin = await stack.staff(Role.ADMIN)
    for person in people:
        thread = await stack.scope(person)
        for visibility in (pb.VISIBILITY_IDENTIFIED, pb.VISIBILITY_PSEUDONYMOUS):
            await stack.alias(person, visibility)
        alias = (await stack.alias(person, pb.VISIBILITY_ANONYMOUS, thread)).alias_id
        await stack.anonymity.RevealAlias(
            pb.RevealAliasRequest(alias_id=alias, purpose="scan test"), metadata=moderator.metadata
        )
        await stack.anonymity.ActOnAlias(
            pb.ActOnAliasRequest(alias_id=alias, action=pb.ALIAS_ACTION_SUSPEND, reason="scan"),
            metadata=moderator.metadata,
        )
        await stack.anonymity.ListAliases(
            pb.ListAliasesRequest(user_id=person.user_id, purpose="subject access request"),
            metadata=admin.metadata,
        )
    needles = [n for p in people for n in _needles(p)]

    values = await _all_values(stack)
    assert values, "the scan found no data at all"
    for value in values:
        blob = value if isinstance(value, bytes) else str(value).encode()
        hits = [n for n in needles if n in blob or n.lower() in blob.lower()]
        assert not hits, f"personal data in clear: {hits}"
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        files = [f for f in path.parent.iterdir() if f.name.startswith(path.name)]
        for file in files:
            raw = file.read_bytes()
            assert not [n for n in needles if n in raw], f"personal data in {file.name}"


def _keys_json(keys: dict[str, bytes], active: str, index_key: bytes) -> str:
    return json.dumps(
        {
            "active_kid": active,
            "keys": {kid: base64.b64encode(k).decode() for kid, k in keys.items()},
            "index_key": base64.b64encode(index_key).decode(),
        }
    )


async def test_data_written_before_rotation_is_readable_after(
    database_url: str, data_dir: Path, identity_server: Identity
) -> None:
    old, new, index = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32
    before = anonymity_settings(
        database_url,
        data_dir,
        identity_server,
        master_keys=_keys_json({"old": old}, "old", index),
    )
    async with running_anonymity(before, identity_server) as stack:
        early = await stack.physician(full_name="Dr Early Canary")
        thread = await stack.scope(early)
        early_alias = (await stack.alias(early, pb.VISIBILITY_ANONYMOUS, thread)).alias_id
        named = (await stack.alias(early, pb.VISIBILITY_IDENTIFIED)).alias_id

    after = anonymity_settings(
        database_url,
        data_dir,
        identity_server,
        master_keys=_keys_json({"old": old, "new": new}, "new", index),
    )
    async with running_anonymity(after, identity_server) as stack:
        # Same person and thread: still found through the (unrotated) index key.
        again = await stack.alias(early, pb.VISIBILITY_ANONYMOUS, thread)
        assert again.alias_id == early_alias
        assert (await stack.describe(named))[named].display_name == "Dr Early Canary"
        admin = await stack.staff(Role.ADMIN)
        revealed = await stack.anonymity.RevealAlias(
            pb.RevealAliasRequest(alias_id=early_alias, purpose="rotation check"),
            metadata=admin.metadata,
        )
        assert revealed.user_id == early.user_id
        late = await stack.physician()
        late_alias = (await stack.alias(late)).alias_id
        kids = {r["owner_seal_kid"] for r in await stack.rows("aliases")}
        assert kids == {"old", "new"}
        assert {r["kid"] for r in await stack.rows("user_keys")} == {"old", "new"}
        owned = await stack.anonymity.BatchCheckOwnership(
            pb.BatchCheckOwnershipRequest(user_id=late.user_id, alias_ids=[late_alias]),
            metadata=late.metadata,
        )
        assert list(owned.owned_alias_ids) == [late_alias]
