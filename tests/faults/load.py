"""The fault matrix's load: a steady, bounded mix of GraphQL reads and writes on loopback.

Every write carries a text no other write has, so that after the faults each one can be
looked up: an acknowledged write must be there once, a failed one may or may not be (its
outcome is unknown to the client, as after a lost answer). Every loop stops at a request
count or a deadline, whichever comes first; pacing keeps the rate steady, not maximal.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

FEED = "{ feed(first: 10) { nodes { id title author { handle } } } }"
ME = "{ me { id } }"
AUDIT = "{ auditEvents(first: 1) { nodes { id } } }"
CREATE = "mutation($i: CreatePostInput!) { createPost(input: $i) { id } }"
COMMENT = "mutation($i: AddCommentInput!) { addComment(input: $i) { id } }"
REGISTER = "mutation($i: RegisterInput!) { register(input: $i) { viewer { id } } }"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
VERIFY = "mutation($u: ID!) { verifyPhysician(userId: $u, approve: true) { id } }"
PASSWORD = "fault matrix password 42"
#: The mix, one entry per request in turn: reads of every service and two kinds of write.
MIX = ("feed", "create", "me", "comment", "feed", "audit", "create", "comment")
WRITES = frozenset({"create", "comment"})


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str
    began: float
    ended: float
    code: str  # "OK", a GraphQL extensions.code, "HTTP <status>", "CONNECTION" or "TIMEOUT"
    text: str = ""  # a write's unique title/body
    result_id: str = ""

    @property
    def ok(self) -> bool:
        return self.code == "OK"


@dataclass
class Accounts:
    members: list[str]  # tokens of verified physicians
    staff: str  # an ADMIN and AUDITOR's token
    posts: list[str]  # one post per member, for comments


def _loopback(url: str) -> str:
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"the fault matrix talks to loopback only, not {url}")
    return url


def classify(reply: httpx.Response) -> tuple[str, Any]:
    if reply.status_code != 200:
        return f"HTTP {reply.status_code}", None
    body = reply.json()
    if body.get("errors"):
        return str(body["errors"][0].get("extensions", {}).get("code", "NO_CODE")), None
    return "OK", body.get("data")


@dataclass
class Load:
    url: str
    accounts: Accounts
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    outcomes: list[Outcome] = field(default_factory=list)
    sent: int = 0

    async def _one(self, client: httpx.AsyncClient, kind: str, n: int) -> Outcome:
        member = self.accounts.members[n % len(self.accounts.members)]
        token, text = member, ""
        variables: dict[str, Any] = {}
        if kind == "create":
            text = f"fault {self.tag} post {n}"
            query = CREATE
            visibility = "ANONYMOUS" if n % 3 == 0 else "PSEUDONYMOUS"
            variables = {"i": {"kind": "DISCUSSION", "community": "lounge-stories",
                               "title": text, "body": "load", "visibility": visibility}}  # fmt: skip
        elif kind == "comment":
            text = f"fault {self.tag} comment {n}"
            query = COMMENT
            post = self.accounts.posts[n % len(self.accounts.posts)]
            variables = {"i": {"postId": post, "body": text}}
        elif kind == "audit":
            query, token = AUDIT, self.accounts.staff
        else:
            query = FEED if kind == "feed" else ME
        began = time.monotonic()
        try:
            reply = await client.post(
                self.url,
                json={"query": query, "variables": variables},
                headers={"authorization": f"Bearer {token}"},
            )
            code, data = classify(reply)
        except httpx.TimeoutException:
            code, data = "TIMEOUT", None
        except httpx.TransportError:
            code, data = "CONNECTION", None
        result = ""
        if code == "OK" and kind in WRITES:
            result = next(iter(data.values()))["id"]
        return Outcome(kind, began, time.monotonic(), code, text, result)

    async def run(self, stop: asyncio.Event, *, workers: int = 4, interval: float = 0.2,
                  max_requests: int = 50_000, max_seconds: float = 600) -> None:  # fmt: skip
        """`workers` clients, each sending one request per `interval` at most, until `stop`."""
        deadline = time.monotonic() + max_seconds
        limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
        async with httpx.AsyncClient(timeout=20, limits=limits, trust_env=False) as client:

            async def worker() -> None:
                while not stop.is_set() and self.sent < max_requests:
                    if time.monotonic() > deadline:
                        return
                    n = self.sent
                    self.sent += 1
                    began = time.monotonic()
                    self.outcomes.append(await self._one(client, MIX[n % len(MIX)], n))
                    pause = interval - (time.monotonic() - began)
                    if pause > 0:  # pacing of a steady load, not a wait for a condition
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), pause)

            await asyncio.gather(*(worker() for _ in range(workers)))


async def _call(client: httpx.AsyncClient, url: str, query: str, variables: dict[str, Any],
                token: str | None = None) -> Any:  # fmt: skip
    headers = {"authorization": f"Bearer {token}"} if token else {}
    reply = await client.post(url, json={"query": query, "variables": variables}, headers=headers)
    code, data = classify(reply)
    if code != "OK":
        raise RuntimeError(f"setup call failed ({code}): {reply.text[:500]}")
    return data


async def register(client: httpx.AsyncClient, url: str) -> tuple[str, str]:
    """A new physician account: (user id, email)."""
    from services.identity.domain.validation import npi_check_digit

    stem = f"1{uuid.uuid4().int % 10**8:08d}"
    email = f"fault-{uuid.uuid4().hex[:10]}@example.org"
    data = await _call(client, url, REGISTER, {"i": {
        "email": email, "password": PASSWORD, "fullName": "Dr. Fault Load",
        "npi": stem + npi_check_digit(stem), "specialty": "207RC0000X", "country": "US"}})  # fmt: skip
    return data["register"]["viewer"]["id"], email


async def login(client: httpx.AsyncClient, url: str, email: str) -> str:
    data = await _call(client, url, LOGIN, {"e": email, "p": PASSWORD})
    return str(data["login"]["token"])


async def seed_posts(client: httpx.AsyncClient, url: str, tokens: list[str]) -> list[str]:
    """One post per member; retried while anonymity learns of the verification (Kafka)."""
    posts = []
    for token in tokens:
        deadline = time.monotonic() + 90
        while True:
            variables = {"i": {"kind": "DISCUSSION", "community": "lounge-stories",
                               "title": "fault matrix thread", "body": "comments go here"}}  # fmt: skip
            try:
                data = await _call(client, _loopback(url), CREATE, variables, token)
                posts.append(data["createPost"]["id"])
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.3)  # bounded: the verification event is on its way
    return posts
