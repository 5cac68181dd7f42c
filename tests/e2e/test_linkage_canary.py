"""The linkage canary (P2, docs/THREAT_MODEL.md): every adversary tries to link one doctor's aliases.

A canary physician posts IDENTIFIED, PSEUDONYMOUS and ANONYMOUS in several threads, comments,
reacts and votes, beside decoy physicians who do the same. Then a moderator suspends the
canary through one alias, an admin reinstates, suspends and reinstates them, and they are
erased. After every step each adversary of the threat model looks at what it can see and
tries to tie two of the canary's aliases together (or name an anonymous one):

- a member, diffing GraphQL snapshots (`author`, `_entities`, the feed, each post);
- a reader of content's database, diffing its rows;
- a reader of every topic, grouping events by step and by trace id;
- a compromised content process, holding every request content received (a recording proxy);
- a holder of anonymity's database without its keys, comparing the canary's alias rows.

Each finds at most the one alias a moderator acted on, and after erasure only the IDENTIFIED
alias's name gone.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support.observers import alias_ids_in, settled, sqlite_rows, topic_records
from support.recording_proxy import RecordingProxy, recording_proxy
from support.system import PASSWORD, System, next_npi, run_system
from support.tracing import recorded_spans

from plumbing.auth import Role
from services.content.app import build as build_content
from services.content.settings import ContentSettings

CANARY_NAME = "Dr. Quibbleworth Canaryvane"
CREATE = """mutation($input: CreatePostInput!) {
  createPost(input: $input) { id author { aliasId } } }"""
COMMENT = (
    """mutation($input: AddCommentInput!) { addComment(input: $input) { id author { aliasId } } }"""
)
REACT = "mutation($p: ID!) { react(postId: $p, reaction: SUPPORT) { id } }"
VOTE = "mutation($p: ID!) { votePoll(postId: $p, option: 1) { totalVotes } }"
PERSONA = "aliasId handle verifiedPhysician specialty displayName isViewer"
#: What a reader's own feed page asks: viewer flags on every post of every thread at once.
VIEWER_PAGE = """{ feed(first: 50) { nodes { id viewerIsAuthor author { isViewer }
  reactions { total viewerReaction } poll { viewerHasVoted totalVotes }
  comments(first: 20) { nodes { viewerIsAuthor author { isViewer } } } } } }"""
SNAPSHOT = f"""query($aliases: [_Any!]!) {{
  feed(first: 50) {{ nodes {{ id title author {{ {PERSONA} }}
    comments(first: 50) {{ nodes {{ id body author {{ {PERSONA} }} }} }} }} }}
  _entities(representations: $aliases) {{ ... on Author {{ {PERSONA} }} }}
}}"""
#: Person-keyed topics (keyed by user id) and alias-keyed ones: no trace may join them.
PERSON_TOPICS = ("identity.physicians.v1",)
ALIAS_TOPICS = ("anonymity.aliases.v1", "content.posts.v1")
#: Consumer groups that must have caught up before a step is over, and what they read.
GROUPS = {
    "anonymity": "identity.physicians.v1",
    "content": "anonymity.aliases.v1",
    "audit": "audit.identity-access.v1",
}


@dataclass
class Person:
    user_id: str
    token: str
    aliases: set[str] = field(default_factory=set)


@dataclass
class World:
    system: System
    proxy: RecordingProxy
    content_db: Path
    canary: Person
    decoys: list[Person]
    admin: str
    moderator: str
    #: The canary's aliases by what they were made for.
    named: dict[str, str] = field(default_factory=dict)

    async def graphql(self, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        self.proxy.mark()
        return await self.system.graphql(query, variables, token=token)


# --- setting the scene ----------------------------------------------------------------------


async def _physician(system: System, admin: str, name: str) -> Person:
    email = f"{name.split()[-1].lower()}.{next_npi()}@canary.example"
    user_id, _ = await system.register(
        email=email, fullName=name, npi=next_npi(), specialty="207RC0000X"
    )
    verify = "mutation($u: ID!) { verifyPhysician(userId: $u, approve: true) { id } }"
    await system.graphql(verify, {"u": user_id}, token=admin)
    login = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
    body = await system.graphql(login, {"e": email, "p": PASSWORD})
    return Person(user_id, body["data"]["login"]["token"])


async def _post(world: World, person: Person, visibility: str, kind: str = "DISCUSSION") -> str:
    post: dict[str, Any] = {
        "kind": kind,
        "community": "lounge-stories",
        "title": f"{visibility.lower()} {kind.lower()} {len(person.aliases)}",
        "body": "Long night, good team, one more thing to say.",
        "visibility": visibility,
    }
    if kind == "POLL":
        post.update(community="lounge-careers", pollOptions=["Yes", "No"])
        post.pop("body")
    body = await world.graphql(CREATE, {"input": post}, person.token)
    created = body["data"]["createPost"]
    person.aliases.add(created["author"]["aliasId"])
    return str(created["id"])


async def _comment(world: World, person: Person, post_id: str, visibility: str) -> str:
    body = await world.graphql(
        COMMENT,
        {"input": {"postId": post_id, "body": "Agreed, and thanks.", "visibility": visibility}},
        person.token,
    )
    alias = str(body["data"]["addComment"]["author"]["aliasId"])
    person.aliases.add(alias)
    return alias


async def _scene(world: World) -> None:
    """Everyone posts under every visibility, comments, reacts and votes, interleaved."""
    people = [world.canary, *world.decoys]
    threads: dict[str, list[str]] = {}
    for visibility in ("IDENTIFIED", "PSEUDONYMOUS", "ANONYMOUS", "ANONYMOUS"):
        for person in people:
            threads.setdefault(person.user_id, []).append(await _post(world, person, visibility))
    polls = {p.user_id: await _post(world, p, "ANONYMOUS", "POLL") for p in people}
    canary = world.canary
    ids = sorted(canary.aliases)
    world.named = {"any": ids[0]}
    # The canary comments anonymously in two decoys' threads, reacts and votes in others.
    for decoy in world.decoys:
        world.named[f"comment-{decoy.user_id}"] = await _comment(
            world, canary, threads[decoy.user_id][2], "ANONYMOUS"
        )
        await _comment(world, decoy, threads[canary.user_id][2], "ANONYMOUS")
        await world.graphql(REACT, {"p": threads[decoy.user_id][3]}, canary.token)
        await world.graphql(REACT, {"p": threads[canary.user_id][3]}, decoy.token)
        await world.graphql(VOTE, {"p": polls[decoy.user_id]}, canary.token)
        await world.graphql(VOTE, {"p": polls[canary.user_id]}, decoy.token)
    # A feed page read by the canary: viewer flags across every thread at once.
    await world.graphql(VIEWER_PAGE, {}, canary.token)


# --- what each adversary sees -----------------------------------------------------------------


async def _member_view(world: World, aliases: set[str]) -> dict[str, str]:
    """What a member sees of each alias: persona (from `_entities` and the feed) and content."""
    member = world.decoys[0].token
    reps = [{"__typename": "Author", "aliasId": a} for a in sorted(aliases)]
    body = await world.graphql(SNAPSHOT, {"aliases": reps}, member)
    view: dict[str, list[Any]] = {a: [] for a in aliases}
    for persona in body["data"]["_entities"]:
        if persona and persona["aliasId"] in view:
            view[persona["aliasId"]].append(("entity", _public(persona)))
    for post in body["data"]["feed"]["nodes"]:
        author = post["author"]
        if author and author["aliasId"] in view:
            view[author["aliasId"]].append(("post", post["id"], post["title"], _public(author)))
        for comment in post["comments"]["nodes"]:
            who = comment["author"]
            if who and who["aliasId"] in view:
                view[who["aliasId"]].append(("comment", comment["id"], _public(who)))
    return {a: json.dumps(sorted(map(str, v))) for a, v in view.items()}


def _public(persona: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in persona.items() if k != "isViewer"}


# --- the steps ----------------------------------------------------------------------------------


@dataclass
class Observation:
    member: dict[str, str]
    content: dict[tuple[str, str], str]
    records: int
    calls: int


async def _observe(world: World) -> Observation:
    databases = [
        world.content_db if name == "content" else Path(url.removeprefix("sqlite+aiosqlite:///"))
        for name, url in world.system.database_urls.items()
    ]
    await settled(databases, world.system.data_dir, GROUPS)
    everyone = set(world.canary.aliases).union(*(d.aliases for d in world.decoys))
    return Observation(
        member=await _member_view(world, everyone),
        content=sqlite_rows(world.content_db),
        records=len(topic_records(world.system.data_dir)),
        calls=len(world.proxy.calls),
    )


def _linked_by_step(world: World, before: Observation, after: Observation) -> dict[str, set[str]]:
    """Which of the canary's aliases each adversary saw change during one step."""
    canary = world.canary.aliases
    member = {a for a in canary if before.member.get(a) != after.member.get(a)}
    changed_rows = [t for k, t in after.content.items() if k not in before.content]
    changed_rows += [t for k, t in before.content.items() if k not in after.content]
    records = topic_records(world.system.data_dir)[before.records : after.records]
    topics = set().union(*(r.alias_ids() for r in records)) if records else set()
    return {
        "member": member,
        "content database": alias_ids_in(changed_rows) & canary,
        "topics": topics & canary,
    }


@contextlib.asynccontextmanager
async def _world(tmp_path: Path) -> AsyncIterator[World]:
    data_dir = tmp_path / "data"
    content_db = data_dir / "content" / "content.db"
    async with contextlib.AsyncExitStack() as stack:
        content = await stack.enter_async_context(
            build_content(
                ContentSettings(
                    database_url=f"sqlite+aiosqlite:///{content_db}",
                    data_dir=data_dir,
                    port=0,
                    log_format="text",
                )
            )
        )
        port = await content.server.start()
        stack.push_async_callback(content.server.stop)
        proxy = await stack.enter_async_context(recording_proxy(f"127.0.0.1:{port}"))
        system = await stack.enter_async_context(
            run_system(data_dir, content_address=proxy.address, events=True, k_anonymity=2)
        )
        await content.events.start()
        stack.push_async_callback(content.events.stop)
        _, admin = await system.account(Role.ADMIN)
        _, moderator = await system.account(Role.MODERATOR)
        canary = await _physician(system, admin, CANARY_NAME)
        decoys = [
            await _physician(system, admin, f"Dr. Decoy Number{n}") for n in ("one", "two", "three")
        ]
        world = World(system, proxy, content_db, canary, decoys, admin, moderator)
        await _scene(world)
        yield world


@pytest.fixture
def traced() -> Iterator[None]:
    """Real trace ids for this test (see support.tracing)."""
    with recorded_spans():
        yield


@pytest.mark.usefixtures("traced")
async def test_no_adversary_links_the_canarys_aliases(tmp_path: Path) -> None:
    async with _world(tmp_path) as world:
        canary = world.canary
        assert len(canary.aliases) >= 6, canary.aliases
        acted = world.named[f"comment-{world.decoys[0].user_id}"]
        identified = await _identified_alias(world)
        steps: list[tuple[str, str, dict[str, Any], str, set[str]]] = [
            (
                "a moderator suspends the canary through one alias",
                'mutation($a: ID!) { suspendAuthor(aliasId: $a, reason: "harassment") }',
                {"a": acted},
                world.moderator,
                {acted},
            ),
            (
                "an admin reinstates the canary",
                "mutation($u: ID!) { reinstatePhysician(userId: $u) { id } }",
                {"u": canary.user_id},
                world.admin,
                set(),
            ),
            (
                "an admin suspends the canary",
                'mutation($u: ID!) { suspendPhysician(userId: $u, reason: "license check") { id } }',
                {"u": canary.user_id},
                world.admin,
                set(),
            ),
            (
                "an admin reinstates the canary again",
                "mutation($u: ID!) { reinstatePhysician(userId: $u) { id } }",
                {"u": canary.user_id},
                world.admin,
                set(),
            ),
            (
                "the canary is erased",
                "mutation($u: ID!) { eraseAccount(userId: $u) }",
                {"u": canary.user_id},
                world.admin,
                {identified},
            ),
        ]
        findings: list[str] = []
        before = await _observe(world)
        for step, mutation, variables, token, allowed in steps:
            await world.graphql(mutation, variables, token)
            after = await _observe(world)
            for adversary, seen in _linked_by_step(world, before, after).items():
                if not seen <= allowed:
                    findings.append(f"{step}: {adversary} saw {len(seen)} aliases change together")
            before = after
        findings += _call_links(world)
        findings += _trace_links(world)
        findings += _row_links(world)
        assert not findings, "\n".join(findings)


async def _identified_alias(world: World) -> str:
    reps = [{"__typename": "Author", "aliasId": a} for a in sorted(world.canary.aliases)]
    body = await world.graphql(SNAPSHOT, {"aliases": reps}, world.decoys[0].token)
    named = [p["aliasId"] for p in body["data"]["_entities"] if p and p["displayName"]]
    assert named and len(named) == 1, named
    return str(named[0])


def _call_links(world: World) -> list[str]:
    """A compromised content process: no call, and no GraphQL request, held two canary aliases."""
    canary = world.canary.aliases
    assert world.proxy.calls, "the proxy saw nothing: content was not behind it"
    found = []
    for call in world.proxy.calls:
        together = call.alias_ids() & canary
        if len(together) > 1:
            found.append(f"content: one {call.method} call carried {len(together)} aliases")
    for group in world.proxy.groups():
        together = set().union(*(c.alias_ids() for c in group)) & canary if group else set()
        if len(together) > 1:
            found.append(f"content: one GraphQL request carried {len(together)} aliases")
    return found


def _row_links(world: World) -> list[str]:
    """A holder of anonymity's database without its keys: does any value on the canary's
    alias rows (a column other than the alias id) set two of them apart from the decoys'?"""
    path = Path(world.system.database_urls["anonymity"].removeprefix("sqlite+aiosqlite:///"))
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        rows = {r["alias_id"]: dict(r) for r in conn.execute("SELECT * FROM aliases")}
    canary = [rows[a] for a in sorted(world.canary.aliases) if a in rows]
    decoys = [rows[a] for d in world.decoys for a in d.aliases if a in rows]
    assert len(canary) == len(world.canary.aliases) and decoys, "alias rows not found"
    found = []
    for column in canary[0]:
        if column == "alias_id":
            continue
        values = [r[column] for r in canary if r[column] is not None]
        shared = {v for v in values if values.count(v) > 1}
        private = shared - {r[column] for r in decoys}
        if private:
            found.append(
                f"anonymity database: {column} holds a value only the canary's aliases share"
            )
    return found


def _trace_links(world: World) -> list[str]:
    """A reader of every topic: no trace id joins two canary aliases, or a person to an alias."""
    records = topic_records(world.system.data_dir)
    found = []
    traces: dict[str, set[str]] = {}
    person_traces = {r.trace_id for r in records if r.topic in PERSON_TOPICS and r.trace_id}
    for record in records:
        if record.topic in ALIAS_TOPICS and record.trace_id:
            if record.trace_id in person_traces:
                found.append(f"topics: a {record.topic} event shares a person-keyed trace")
            traces.setdefault(record.trace_id, set()).update(record.alias_ids())
    for aliases in traces.values():
        together = aliases & world.canary.aliases
        if len(together) > 1:
            found.append(f"topics: one trace id joins {len(together)} aliases")
    return found
