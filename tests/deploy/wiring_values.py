"""What the chart wiring test runs with: one fresh PostgreSQL database per
service, and production values whose Secrets hold freshly generated keys."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import make_url

from plumbing.auditkeys import parse_signing_key
from tests.deploy.chart import SERVICES


def _pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def _public(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


async def _databases(admin_url: str, names: list[str], drop: bool = False) -> None:
    url = make_url(admin_url)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
        timeout=30,
    )
    try:
        for name in names:
            verb = "DROP DATABASE IF EXISTS" if drop else "CREATE DATABASE"
            await conn.execute(f'{verb} "{name}"' + (" WITH (FORCE)" if drop else ""))
    finally:
        await conn.close()


@pytest.fixture
def database_urls(postgres_url: str) -> Iterator[dict[str, str]]:
    """One fresh database per service on the test PostgreSQL, as the chart wants them."""
    names = {c: f"test_chart_{c}_{uuid.uuid4().hex[:12]}" for c in SERVICES}
    asyncio.run(_databases(postgres_url, list(names.values())))
    base = make_url(postgres_url)
    try:
        yield {
            c: base.set(database=n).render_as_string(hide_password=False) for c, n in names.items()
        }
    finally:
        asyncio.run(_databases(postgres_url, list(names.values()), drop=True))


def chart_values(
    database_urls: dict[str, str], kafka: str, ports: dict[str, int], metrics: dict[str, int]
) -> dict[str, Any]:
    """Production settings with chart-made Secrets holding freshly generated keys."""
    identity_audit, anonymity_audit, ledger_audit = _pem(), _pem(), _pem()
    trusted, producers = {}, {}
    for producer, pem in (
        ("identity", identity_audit),
        ("anonymity", anonymity_audit),
        ("audit", ledger_audit),
    ):
        key = parse_signing_key(pem.encode(), origin="test")
        trusted[f"{key.key_id}.pem"] = key.public_pem().decode()
        producers[producer] = [key.key_id]
    service_keys = {c: _pem() for c in ("gateway", "identity", "anonymity", "content", "audit")}
    tag_key = base64.b64encode(secrets.token_bytes(32)).decode()
    master_keys = json.dumps(
        {
            "active_kid": "k1",
            "keys": {"k1": base64.b64encode(secrets.token_bytes(32)).decode()},
            "index_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
    )
    kafka_host, kafka_port = kafka.rsplit(":", 1)
    values: dict[str, Any] = {
        "environment": "production",
        "kafka": {
            "bootstrap": kafka,
            "cidrs": [f"{kafka_host}/32"],
            "ports": [int(kafka_port)],
            "topics": {"replication": 1, "partitions": 2},
        },
        "gateway": {
            "port": ports["gateway"],
            "secret": {"values": {"service-key": service_keys["gateway"]}},
        },
        "identity": {
            # argon2 at test cost: the cost is not under test, the wiring is
            "env": {
                "CONSILIUM_IDENTITY_ARGON2_TIME_COST": "1",
                "CONSILIUM_IDENTITY_ARGON2_MEMORY_KIB": "1024",
            },
            "secret": {
                "values": {
                    "signing-key": _pem(),
                    "audit-signing-key": identity_audit,
                    "service-key": service_keys["identity"],
                    "anonymity-service-public-key": _public(service_keys["anonymity"]),
                    "audit-service-public-key": _public(service_keys["audit"]),
                    "audit-tag-key": tag_key,
                    "login-throttle-key": base64.b64encode(secrets.token_bytes(32)).decode(),
                }
            },
        },
        "anonymity": {
            "secret": {
                "values": {
                    "master-keys": master_keys,
                    "audit-signing-key": anonymity_audit,
                    "service-key": service_keys["anonymity"],
                    "gateway-service-public-key": _public(service_keys["gateway"]),
                }
            },
        },
        "content": {
            "secret": {
                "values": {
                    "service-key": service_keys["content"],
                    "gateway-service-public-key": _public(service_keys["gateway"]),
                }
            }
        },
        "audit": {
            "secret": {
                "values": {
                    "audit-tag-key": tag_key,
                    "checkpoint-key": _pem(),
                    "audit-signing-key": ledger_audit,
                    "service-key": service_keys["audit"],
                }
            },
            "trustedKeys": {"keys": trusted},
            "producers": producers,
        },
    }
    for component, port in metrics.items():  # one loopback port each (the chart: one for all)
        env = values[component].setdefault("env", {})
        env[f"CONSILIUM_{component.upper()}_METRICS_PORT"] = str(port)
    for component in SERVICES:
        values[component]["port"] = ports[component]
        values[component]["secret"]["values"]["database-url"] = database_urls[component]
        values[component]["database"] = {"cidrs": ["127.0.0.1/32"], "port": 5432}
    return values
