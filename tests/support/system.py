"""The whole system in one test process: every service over real gRPC, the gateway over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from cli.topics import create_topics
from gateway.app import create_app
from gateway.limits.policy import GatewayLimits
from gateway.serve import uvicorn_config
from gateway.settings import GatewaySettings
from plumbing.auth import Role
from services.anonymity.app import build as build_anonymity
from services.anonymity.settings import AnonymitySettings
from services.audit.app import build as build_audit
from services.audit.settings import AuditSettings
from services.content.app import build as build_content
from services.content.settings import ContentSettings
from services.identity.app import build as build_identity
from services.identity.domain.physician import new_user_id
from services.identity.settings import IdentitySettings
from support.accounts import PASSWORD, next_npi, store_account

_FAST = {"argon2_time_cost": 1, "argon2_memory_kib": 64, "argon2_parallelism": 1}


class GraphQLError(AssertionError):
    """A GraphQL response carried errors the test did not expect."""


@dataclass
class System:
    """Handles on the running system, plus helpers to act as particular people."""

    data_dir: Path
    gateway_url: str
    http: httpx.AsyncClient
    identity: Any
    anonymity: Any
    content: Any
    database_urls: dict[str, str] = field(default_factory=dict)
    kafka_bootstrap: str | None = None
    audit: Any = None
    _reader: str | None = field(default=None, repr=False)

    async def graphql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        expect_errors: bool = False,
        extra_headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        headers.update(extra_headers or {})
        reply = await self.http.post(
            self.gateway_url, json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        if not expect_errors and body.get("errors"):
            raise GraphQLError(body["errors"])
        return body

    async def reader(self) -> str:
        """The token of a VERIFIED member made for reading (content is for physicians only);
        the same one for the whole test, so it is not among the people a test counts."""
        if self._reader is None:
            _, self._reader = await self.account()
        return self._reader

    async def register(self, **overrides: str) -> tuple[str, str]:
        """A new PENDING member through GraphQL; returns (user id, token)."""
        values = {
            "email": f"{new_user_id()[4:14]}@example.org",
            "password": PASSWORD,
            "fullName": "Dr. Test Person",
            "npi": next_npi(),
            "specialty": "207RC0000X",
            "country": "US",
        }
        values.update(overrides)
        body = await self.graphql(
            "mutation($input: RegisterInput!) { register(input: $input) { token viewer { id } } }",
            {"input": values},
        )
        payload = body["data"]["register"]
        return payload["viewer"]["id"], payload["token"]

    async def hide_alias(self, alias_id: str) -> None:
        """What anonymity's AliasSuspended event does at content, for systems run without
        events: hiding reaches content only as events (it admits no SetAliasHidden call)."""
        await self.content.service.set_alias_hidden([alias_id], True)

    async def account(self, *roles: Role, verified: bool = True, **fields: str) -> tuple[str, str]:
        """An account stored directly with `roles` (bootstrap); returns (user id, token)."""
        user_id, email = await store_account(
            self.identity.store,
            *roles,
            verified=verified,
            email=fields.get("email"),
            full_name=fields.get("full_name", "Dr. Staff Member"),
            npi=fields.get("npi"),
            specialty_code=fields.get("specialty_code", "207R00000X"),
        )
        body = await self.graphql(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
            {"e": email, "p": PASSWORD},
        )
        return user_id, body["data"]["login"]["token"]


def _free_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def run_system(
    data_dir: Path,
    database_urls: dict[str, str] | None = None,
    *,
    content_address: str | None = None,
    events: bool = False,
    kafka_bootstrap: str | None = None,
    k_anonymity: int | None = None,
    identity_clock: Callable[[], datetime] | None = None,
    identity_settings: dict[str, Any] | None = None,
    limits: GatewayLimits | None = None,
    **gateway: Any,
) -> AsyncIterator[System]:
    """Starts identity, anonymity, content, audit and the gateway; stops them in reverse order.

    With `content_address`, content is not started here: the caller runs it (e.g. as its
    own process, so its log output can be examined alone). With `events`, the topics are
    created and every service's outbox relay and consumers run, on Kafka at
    `kafka_bootstrap` or else on the embedded bus under `data_dir`; without it, events
    wait in the outboxes. `k_anonymity` lowers anonymity's K for small test populations.
    `identity_clock` and `identity_settings` drive identity's sign-in throttle; `limits` the
    gateway's own (their clocks). The gateway's per-person and per-address budgets are
    lifted unless a test sets them: tests write faster than people do, all from loopback.
    """
    gateway = {
        "writes_per_minute": 1_000_000,
        "anonymous_requests_per_minute": 1_000_000,
        **gateway,
    }
    urls = database_urls or {}

    def db(name: str) -> str:
        return urls.get(name) or f"sqlite+aiosqlite:///{data_dir / name / f'{name}.db'}"

    common: dict[str, Any] = {
        "data_dir": data_dir,
        "port": 0,
        "log_format": "text",
        "kafka_bootstrap": kafka_bootstrap,
    }
    runtimes: list[Any] = []
    if events:
        await create_topics(kafka_bootstrap, data_dir)
    async with contextlib.AsyncExitStack() as stack:
        identity = await stack.enter_async_context(
            build_identity(
                IdentitySettings(
                    database_url=db("identity"), **common, **_FAST, **(identity_settings or {})
                ),
                clock=identity_clock,
            )
        )
        identity_port = await identity.server.start()
        stack.push_async_callback(identity.server.stop)
        anonymity = await stack.enter_async_context(
            build_anonymity(
                AnonymitySettings(
                    database_url=db("anonymity"),
                    identity_address=f"127.0.0.1:{identity_port}",
                    **({"k_anonymity": k_anonymity} if k_anonymity else {}),
                    **common,
                )
            )
        )
        anonymity_port = await anonymity.server.start()
        stack.push_async_callback(anonymity.server.stop)
        content = None
        if content_address is None:
            content = await stack.enter_async_context(
                build_content(ContentSettings(database_url=db("content"), **common))
            )
            content_port = await content.server.start()
            stack.push_async_callback(content.server.stop)
            content_address = f"127.0.0.1:{content_port}"
        audit = await stack.enter_async_context(
            build_audit(
                AuditSettings(
                    database_url=db("audit"),
                    identity_address=f"127.0.0.1:{identity_port}",
                    **common,
                )
            )
        )
        audit_port = await audit.server.start()
        stack.push_async_callback(audit.server.stop)
        if events:
            runtimes = [s.events for s in (identity, anonymity, content, audit) if s is not None]
            for runtime in runtimes:
                await runtime.start()
                stack.push_async_callback(runtime.stop)

        settings = GatewaySettings(
            data_dir=data_dir,
            kafka_bootstrap=kafka_bootstrap,
            identity_address=f"127.0.0.1:{identity_port}",
            anonymity_address=f"127.0.0.1:{anonymity_port}",
            content_address=content_address,
            **{"audit_address": f"127.0.0.1:{audit_port}", **gateway},
        )
        server = uvicorn.Server(uvicorn_config(create_app(settings, limits=limits), settings))
        sock = _free_socket()
        stack.callback(sock.close)
        port = sock.getsockname()[1]
        task = asyncio.create_task(server.serve(sockets=[sock]))

        async def stop_gateway() -> None:
            server.should_exit = True
            await task

        stack.push_async_callback(stop_gateway)
        async with asyncio.timeout(30):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no started event
                await asyncio.sleep(0.02)
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=30))
        yield System(
            data_dir=data_dir,
            gateway_url=f"http://127.0.0.1:{port}/graphql",
            http=http,
            identity=identity,
            anonymity=anonymity,
            content=content,
            database_urls={n: db(n) for n in ("identity", "anonymity", "content", "audit")},
            kafka_bootstrap=kafka_bootstrap,
            audit=audit,
        )
