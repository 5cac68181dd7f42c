"""Service credentials: each service's own key, tokens checked against the claimed caller's
pinned key, reveal grants only from anonymity's key, and who a policy admits."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import jwt
import pytest

from plumbing.auth.service import (
    CallerPolicy,
    RevealGrant,
    ServiceCredentials,
    ServicePrincipal,
    mint_reveal_grant,
    require_service,
    verify_reveal_grant,
)
from plumbing.auth.servicekeys import (
    KEYED_SERVICES,
    PeerKeys,
    ServiceKeyError,
    dev_service_key_path,
    prepare_dev_service_keys,
    public_key_env,
    service_key_env,
)
from plumbing.errors import PermissionDenied, Unauthenticated
from plumbing.grpc.caller import SERVICE_TOKEN_KEY
from plumbing.signingkeys import SigningKey, private_pem

GRANT = RevealGrant(subject="usr_subject", actor="usr_moderator", record="iar_0123")


def dev(service: str, data_dir: Path) -> ServiceCredentials:
    return ServiceCredentials.load(service, data_dir, environ={})


def test_dev_keys_are_made_once_private_published_and_reused(tmp_path: Path) -> None:
    first = dev("anonymity", tmp_path)
    private = tmp_path / dev_service_key_path("anonymity")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(private.parent.stat().st_mode) == 0o700
    public = tmp_path / "keys" / "public" / "anonymity.pem"
    assert b"PUBLIC KEY" in public.read_bytes() and b"PRIVATE" not in public.read_bytes()
    again = dev("anonymity", tmp_path)
    assert again.key.key_id == first.key.key_id
    token = first.metadata(audience="identity")[0][1]
    assert dev("identity", tmp_path).verify(token, audience="identity") == ServicePrincipal(
        "anonymity"
    )


def test_each_service_has_its_own_key(tmp_path: Path) -> None:
    ids = {dev(s, tmp_path).key.key_id for s in ("identity", "anonymity", "content", "gateway")}
    assert len(ids) == 4
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == [
        "anonymity",
        "content",
        "gateway",
        "identity",
        "public",
    ]


def test_production_keys_come_from_env_and_nothing_is_generated(tmp_path: Path) -> None:
    gateway, content = SigningKey.generate(), SigningKey.generate()
    env = {
        service_key_env("content")[0]: private_pem(content).decode(),
        public_key_env("gateway")[0]: gateway.public_pem().decode(),
    }
    creds = ServiceCredentials.load("content", tmp_path, environ=env, allow_dev=False)
    assert creds.key.key_id == content.key_id
    assert not (tmp_path / "keys").exists()
    caller = ServiceCredentials("gateway", gateway, PeerKeys.pinned({}))
    token = caller.metadata(audience="content")[0][1]
    assert creds.verify(token, audience="content").name == "gateway"
    # A dev-published key would not be read in production: only the pinned environment counts.
    with pytest.raises(ServiceKeyError, match="CONSILIUM_CONTENT_SERVICE_KEY"):
        ServiceCredentials.load("content", tmp_path, environ={}, allow_dev=False)


def test_peer_public_key_from_a_file(tmp_path: Path) -> None:
    gateway = SigningKey.generate()
    path = tmp_path / "gateway.pem"
    path.write_bytes(gateway.public_pem())
    peers = PeerKeys(None, dev=False, environ={public_key_env("gateway")[1]: str(path)})
    assert peers.get("gateway") is not None
    assert peers.get("anonymity") is None
    assert peers.get("../../etc/passwd") is None


def test_a_token_of_one_service_is_not_another_services_identity(tmp_path: Path) -> None:
    gateway, anonymity, content = (dev(s, tmp_path) for s in ("gateway", "anonymity", "content"))
    token = anonymity.metadata(audience="content")[0][1]
    assert content.verify(token, audience="content").name == "anonymity"
    # Same claims, the issuer rewritten: signed by anonymity's key, checked against gateway's.
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = ServiceCredentials("gateway", anonymity.key, PeerKeys.pinned({})).sign(
        {**claims, "iss": "gateway", "sub": "svc:gateway"}
    )
    with pytest.raises(Unauthenticated):
        content.verify(forged, audience="content")
    with pytest.raises(ValueError, match="cannot present itself"):
        gateway.metadata(service="anonymity", audience="content")
    with pytest.raises(Unauthenticated):
        content.verify(gateway.metadata(audience="anonymity")[0][1], audience="content")


def test_expired_tampered_and_unknown_tokens_are_refused(tmp_path: Path) -> None:
    gateway, content = dev("gateway", tmp_path), dev("content", tmp_path)
    expired = gateway.sign(
        {"iss": "gateway", "sub": "svc:gateway", "aud": "content", "exp": int(time.time()) - 60}
    )
    with pytest.raises(Unauthenticated, match="expired"):
        content.verify(expired, audience="content")
    token = gateway.metadata(audience="content")[0][1]
    with pytest.raises(Unauthenticated):
        content.verify(token[:-3] + "AAA", audience="content")
    with pytest.raises(Unauthenticated):
        content.verify("not-a-token", audience="content")
    stranger = ServiceCredentials("gateway", SigningKey.generate(), PeerKeys.pinned({}))
    with pytest.raises(Unauthenticated):
        content.verify(stranger.metadata(audience="content")[0][1], audience="content")
    hs256 = jwt.encode({"iss": "gateway", "sub": "svc:gateway", "aud": "content"}, "x" * 40)
    with pytest.raises(Unauthenticated):
        content.verify(hs256, audience="content")


def test_only_anonymitys_key_signs_reveal_grants(tmp_path: Path) -> None:
    anonymity, identity = dev("anonymity", tmp_path), dev("identity", tmp_path)
    grant = mint_reveal_grant(anonymity, GRANT)
    assert verify_reveal_grant(identity, grant, subject=GRANT.subject, actor=GRANT.actor) == GRANT
    for other in ("identity", "gateway", "content", "audit"):
        with pytest.raises(ValueError, match="only anonymity"):
            mint_reveal_grant(dev(other, tmp_path), GRANT)
        # Even a grant that names anonymity as its issuer, signed with another service's key.
        forged = ServiceCredentials("anonymity", dev(other, tmp_path).key, PeerKeys.pinned({}))
        with pytest.raises(PermissionDenied):
            verify_reveal_grant(
                identity, mint_reveal_grant(forged, GRANT), subject=GRANT.subject, actor=GRANT.actor
            )
    with pytest.raises(PermissionDenied):
        verify_reveal_grant(identity, grant, subject="usr_other", actor=GRANT.actor)
    # A service token is no grant, and a grant is no service token.
    with pytest.raises(PermissionDenied):
        verify_reveal_grant(
            identity,
            anonymity.metadata(audience="identity")[0][1],
            subject=GRANT.subject,
            actor=GRANT.actor,
        )
    with pytest.raises(Unauthenticated):
        identity.verify(grant, audience="identity")


def test_require_service_names_who_may_call() -> None:
    assert require_service(ServicePrincipal("anonymity"), "anonymity").name == "anonymity"
    with pytest.raises(PermissionDenied, match="anonymity"):
        require_service(ServicePrincipal("content"), "anonymity")
    with pytest.raises(PermissionDenied):
        require_service(None, "anonymity")


def test_a_caller_policy_admits_per_method(tmp_path: Path) -> None:
    content = dev("content", tmp_path)
    policy = CallerPolicy(content, default=("gateway",), methods={"SetAliasHidden": ()})
    gateway = dev("gateway", tmp_path).metadata(audience="content")
    method = "/consilium.content.v1.ContentService/ListFeed"
    assert policy.check(method, gateway).name == "gateway"
    with pytest.raises(Unauthenticated):
        policy.check(method, ())
    with pytest.raises(PermissionDenied):
        policy.check(method, dev("anonymity", tmp_path).metadata(audience="content"))
    with pytest.raises(PermissionDenied, match="offered to no caller"):
        policy.check("/consilium.content.v1.ContentService/SetAliasHidden", gateway)
    as_bytes = ((SERVICE_TOKEN_KEY, gateway[0][1].encode()),)
    assert policy.check(method, as_bytes).name == "gateway"


def test_a_regenerated_dev_peer_key_is_picked_up(tmp_path: Path) -> None:
    content = dev("content", tmp_path)
    first = dev("gateway", tmp_path).metadata(audience="content")[0][1]
    assert content.verify(first, audience="content").name == "gateway"  # pins the first key
    (tmp_path / dev_service_key_path("gateway")).unlink()
    renewed = dev("gateway", tmp_path)
    token = renewed.metadata(audience="content")[0][1]
    assert content.verify(token, audience="content").name == "gateway"


def test_dev_startup_prepares_every_service_key_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for service in KEYED_SERVICES:
        monkeypatch.delenv(service_key_env(service)[0], raising=False)
        monkeypatch.delenv(service_key_env(service)[1], raising=False)
    assert prepare_dev_service_keys(tmp_path) == list(KEYED_SERVICES)
    before = {s: (tmp_path / dev_service_key_path(s)).read_bytes() for s in KEYED_SERVICES}
    assert prepare_dev_service_keys(tmp_path) == []
    after = {s: (tmp_path / dev_service_key_path(s)).read_bytes() for s in KEYED_SERVICES}
    assert after == before
    published = sorted(p.name for p in (tmp_path / "keys" / "public").iterdir())
    assert published == sorted(f"{s}.pem" for s in KEYED_SERVICES)


def test_production_refuses_to_start_without_the_peers_it_admits(tmp_path: Path) -> None:
    own = {service_key_env("content")[0]: private_pem(SigningKey.generate()).decode()}
    content = ServiceCredentials.load("content", tmp_path, environ=own, allow_dev=False)
    with pytest.raises(ServiceKeyError, match="CONSILIUM_GATEWAY_SERVICE_PUBLIC_KEY"):
        CallerPolicy(content, default=("gateway",))
    pinned = {**own, public_key_env("gateway")[0]: SigningKey.generate().public_pem().decode()}
    content = ServiceCredentials.load("content", tmp_path, environ=pinned, allow_dev=False)
    CallerPolicy(content, default=("gateway",), methods={"SetAliasHidden": ()})
    # In dev a peer's key is read when first needed: it may start after us.
    CallerPolicy(dev("content", tmp_path), default=("gateway",))
