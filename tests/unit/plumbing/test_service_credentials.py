"""Service credentials: secret loading, token checks, and who they admit."""

from __future__ import annotations

import stat
from pathlib import Path

import jwt
import pytest

from plumbing.auth.service import (
    SECRET_ENV,
    ServiceCredentials,
    ServicePrincipal,
    ServiceSecretError,
    require_service,
)
from plumbing.errors import PermissionDenied, Unauthenticated


def test_dev_secret_is_created_once_private_and_reused(tmp_path: Path) -> None:
    first = ServiceCredentials.load(tmp_path, environ={})
    (secret_file,) = (tmp_path / "keys").iterdir()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    second = ServiceCredentials.load(tmp_path, environ={})
    token = first.metadata(service="anonymity", audience="identity")[0][1]
    assert second.verify(token, audience="identity") == ServicePrincipal("anonymity")


def test_env_secret_wins_and_production_refuses_to_invent_one(tmp_path: Path) -> None:
    env = {SECRET_ENV: "s" * 48}
    creds = ServiceCredentials.load(tmp_path, environ=env)
    assert not (tmp_path / "keys").exists()
    token = ServiceCredentials(b"s" * 48).metadata(service="anonymity", audience="identity")
    assert creds.verify(token[0][1], audience="identity").name == "anonymity"
    with pytest.raises(ServiceSecretError):
        ServiceCredentials.load(tmp_path, environ={}, allow_dev=False)
    with pytest.raises(ServiceSecretError):
        ServiceCredentials(b"short")


def test_wrong_audience_expired_and_tampered_tokens_are_refused() -> None:
    creds = ServiceCredentials(b"k" * 40)
    token = creds.metadata(service="anonymity", audience="identity")[0][1]
    with pytest.raises(Unauthenticated):
        creds.verify(token, audience="audit")
    expired = jwt.encode(
        {"iss": "anonymity", "sub": "svc:anonymity", "aud": "identity", "exp": 1},
        b"k" * 40,
        algorithm="HS256",
    )
    with pytest.raises(Unauthenticated, match="expired"):
        creds.verify(expired, audience="identity")
    with pytest.raises(Unauthenticated):
        creds.verify(token[:-2] + "xx", audience="identity")


def test_require_service_names_who_may_call() -> None:
    assert require_service(ServicePrincipal("anonymity"), "anonymity").name == "anonymity"
    with pytest.raises(PermissionDenied, match="anonymity"):
        require_service(ServicePrincipal("content"), "anonymity")
    with pytest.raises(PermissionDenied):
        require_service(None, "anonymity")
