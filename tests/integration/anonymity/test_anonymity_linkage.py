"""A keyless reader of anonymity's database tries to group aliases by owner (finding 5).

The attacker holds the database files (or a read-only SQL session) but no master or index
key. Aliases are linked to each other only through some owner-keyed row (any table with an
`owner_index` column), so the attack joins every alias row against every owner-keyed row on
what the engine stamps on rows: SQLite rowid; PostgreSQL ctid, xmin and xmax; and every
timestamp column, and alias rows against each other. Besides the aliases being made (in
a shuffled order across people), one person is suspended and reinstated, one is erased,
and moderators suspend, reinstate and hide single aliases, since those write owner-keyed
and alias rows too. Each join guesses an owner per alias, and the guess links two aliases when it names
the same owner for both. Chance here is the share of alias pairs that really
share an owner (about 0.16); the test fails when any join links pairs with a precision of
one half or more (on the code before the fix, the alias directory's rows gave 1.0).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from anonymity_harness import Person, Stack, identity_event
from sqlalchemy import inspect, text

from consilium.anonymity.v1 import anonymity_pb2 as pb
from consilium.events.v1 import identity_events_pb2 as iev
from consilium.identity.v1 import identity_pb2 as ipb
from plumbing.auth import Role

PEOPLE = 5
#: Precision at or above which a join counts as linking aliases (chance is about 0.16).
LINKED = 0.5

Row = dict[str, Any]
Guess = Callable[[Row], object | None]


async def _create_interleaved(stack: Stack, people: list[Person], seed: int) -> dict[str, str]:
    """alias id -> its owner's user id, for aliases made in one shuffled order."""
    wanted: list[tuple[Person, int, bool]] = []
    for person in people:
        wanted += [
            (person, pb.VISIBILITY_IDENTIFIED, False),
            (person, pb.VISIBILITY_PSEUDONYMOUS, False),
            (person, pb.VISIBILITY_ANONYMOUS, True),
            (person, pb.VISIBILITY_ANONYMOUS, True),
        ]
    random.Random(seed).shuffle(wanted)
    owners: dict[str, str] = {}
    for person, visibility, scoped in wanted:
        scope = await stack.scope(person) if scoped else ""
        owners[(await stack.alias(person, visibility, scope)).alias_id] = person.user_id
    return owners


async def _moderate(stack: Stack, people: list[Person], owners: dict[str, str]) -> None:
    """What else writes owner-keyed rows or alias rows: suspensions, moderator actions."""
    uid = people[0].user_id
    verified = ipb.VERIFICATION_STATUS_VERIFIED
    await stack.publish(identity_event(iev.PhysicianSuspended(user_id=uid), uid))
    await stack.publish(
        identity_event(iev.PhysicianReinstated(user_id=uid, verification=verified), uid)
    )
    # Erasure rewrites the person's aliases in one transaction (decoys with them).
    erased = people[4].user_id
    await stack.publish(identity_event(iev.PhysicianErased(user_id=erased), erased))
    moderator = await stack.staff(Role.MODERATOR)
    by_owner = {p.user_id: sorted(a for a, o in owners.items() if o == p.user_id) for p in people}
    acts = [
        (by_owner[people[1].user_id][0], pb.ALIAS_ACTION_SUSPEND),
        (by_owner[people[1].user_id][0], pb.ALIAS_ACTION_REINSTATE),
        (by_owner[people[2].user_id][0], pb.ALIAS_ACTION_HIDE),
        (by_owner[people[3].user_id][1], pb.ALIAS_ACTION_HIDE),
    ]
    for alias, action in acts:
        before = stack.handled
        await stack.anonymity.ActOnAlias(
            pb.ActOnAliasRequest(alias_id=alias, action=action, reason="linkage test"),
            metadata=moderator.metadata,
        )
        if action in (pb.ALIAS_ACTION_SUSPEND, pb.ALIAS_ACTION_REINSTATE):
            await stack.settled(before + 1)  # identity's answer, through the bus


async def _tables(stack: Stack) -> dict[str, list[str]]:
    async with stack.instance.engine.connect() as conn:

        def read(sync: Any) -> dict[str, list[str]]:
            inspector = inspect(sync)
            return {
                t: [c["name"] for c in inspector.get_columns(t)]
                for t in inspector.get_table_names()
            }

        return await conn.run_sync(read)


async def _rows(stack: Stack, table: str, postgres: bool) -> list[Row]:
    system = (
        "ctid::text AS sys_ctid, xmin::text::bigint AS sys_xmin, xmax::text::bigint AS sys_xmax"
        if postgres
        else "rowid AS sys_rowid"
    )
    async with stack.instance.engine.connect() as conn:
        result = await conn.execute(text(f"SELECT {system}, * FROM {table}"))
        return [dict(row._mapping) for row in result]


def _order_value(row: Row, column: str) -> Any:
    value = row[column]
    if column == "sys_ctid":  # "(block,offset)"
        block, offset = value.strip("()").split(",")
        return (int(block), int(offset))
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).timestamp()
    return value


def _exact(a_col: str, owned: list[Row], o_col: str) -> Guess:
    """The owner row with the same value: same transaction id, same row number, same time."""
    table: dict[Any, str] = {}
    for row in owned:
        table.setdefault(_order_value(row, o_col), row["owner_index"])
    return lambda row: table.get(_order_value(row, a_col))


def _nearest(a_col: str, owned: list[Row], o_col: str) -> Guess:
    """The owner row with the closest value: the transaction or moment next to the alias's."""
    values = [(_order_value(row, o_col), row["owner_index"]) for row in owned]
    numeric = [(v, o) for v, o in values if isinstance(v, int | float)]

    def guess(row: Row) -> object | None:
        value = _order_value(row, a_col)
        if not numeric or not isinstance(value, int | float):
            return None
        return min(numeric, key=lambda pair: abs(pair[0] - value))[1]

    return guess


def _ranked(a_col: str, alias_rows: list[Row], owned: list[Row], o_col: str) -> Guess:
    """Rank against rank: the i-th alias written belongs to the owner row written i-th."""
    owners = [r["owner_index"] for r in sorted(owned, key=lambda r: _order_value(r, o_col))]
    aliases = sorted(alias_rows, key=lambda r: _order_value(r, a_col))
    rank = {r["alias_id"]: i for i, r in enumerate(aliases)}
    scale = len(owners) / len(aliases)
    return lambda row: owners[int(rank[row["alias_id"]] * scale)]


def _joins(alias_rows: list[Row], owned: list[Row], columns: Sequence[str]) -> dict[str, Guess]:
    """Every way to guess an owner from one owner-keyed table, by name."""
    if not owned:
        return {}
    guesses: dict[str, Guess] = {}
    owner_columns = [c for c in columns if c in owned[0]]
    alias_columns = [c for c in columns if c in alias_rows[0]]
    for a_col, o_col in itertools.product(alias_columns, owner_columns):
        if (a_col.startswith("sys_") or o_col.startswith("sys_")) and a_col != o_col:
            continue  # system columns only compare with themselves
        guesses[f"{a_col}={o_col}"] = _exact(a_col, owned, o_col)
        guesses[f"{a_col}~{o_col}"] = _nearest(a_col, owned, o_col)
        guesses[f"{a_col}#{o_col}"] = _ranked(a_col, alias_rows, owned, o_col)
    return guesses


def _precision(guess: Guess, alias_rows: list[Row], owners: dict[str, str]) -> float | None:
    """Of the alias pairs the guess puts together, the share that truly share an owner."""
    guessed = {r["alias_id"]: guess(r) for r in alias_rows}
    linked = [
        (a, b)
        for a, b in itertools.combinations(sorted(guessed), 2)
        if guessed[a] is not None and guessed[a] == guessed[b]
    ]
    if not linked:
        return None
    return sum(owners[a] == owners[b] for a, b in linked) / len(linked)


async def test_keyless_reader_links_no_aliases_by_row_order_or_time(
    stack: Stack, database_url: str
) -> None:
    postgres = database_url.startswith("postgresql")
    people = [await stack.physician() for _ in range(PEOPLE)]
    owners = await _create_interleaved(stack, people, seed=20261129)
    await _moderate(stack, people, owners)
    tables = await _tables(stack)
    alias_rows = [r for r in await _rows(stack, "aliases", postgres) if r["alias_id"] in owners]
    assert len(alias_rows) == len(owners) == PEOPLE * 4

    pairs = list(itertools.combinations(owners, 2))
    chance = sum(owners[a] == owners[b] for a, b in pairs) / len(pairs)
    system = ["sys_ctid", "sys_xmin", "sys_xmax"] if postgres else ["sys_rowid"]
    owner_tables = [t for t, cols in tables.items() if "owner_index" in cols]
    assert owner_tables, "no owner-keyed table: the attack has nothing to join"
    linked: dict[str, float] = {}
    tried = 0
    for table in owner_tables:
        owned = await _rows(stack, table, postgres)
        stamps = [c for c in tables[table] if c.endswith("_at")]
        columns = [*system, *stamps, "created_at"]
        for name, guess in _joins(alias_rows, owned, columns).items():
            tried += 1
            precision = _precision(guess, alias_rows, owners)
            if precision is not None and precision >= LINKED:
                linked[f"{table}.{name}"] = precision
    # Alias rows against each other: written in one transaction, or at one moment.
    for column in [*system, "created_at"]:
        tried += 1
        precision = _precision(lambda r, c=column: _order_value(r, c), alias_rows, owners)
        if precision is not None and precision >= LINKED:
            linked[f"aliases.{column}=aliases.{column}"] = precision
    assert tried, "no join was tried"
    assert not linked, f"aliases linked beyond chance ({chance:.2f}): {linked}"
