"""Register and Login over real gRPC: exact statuses and the fields they name."""

from __future__ import annotations

import json

import grpc
import pytest
from identity_harness import PASSWORD, IdentityClient, next_npi, violations

from consilium.identity.v1 import identity_pb2 as pb
from services.identity.domain.physician import is_user_id
from services.identity.tokens import TokenVerifier


def good_registration(**overrides: str) -> pb.RegisterRequest:
    fields = {
        "email": f"new.{next_npi()}@example.org",
        "password": PASSWORD,
        "full_name": "Dr. Ada Example",
        "npi": next_npi(),
        "specialty_code": "207RC0000X",
        "country": "us",
    }
    fields.update(overrides)
    return pb.RegisterRequest(**fields)


async def test_register_creates_a_pending_member(identity: IdentityClient) -> None:
    request = good_registration(email="Ada.Example@Example.ORG")
    reply = await identity.stub.Register(request)
    physician = reply.physician
    assert is_user_id(physician.user_id)
    assert physician.email == "ada.example@example.org"
    assert physician.country == "US"
    assert physician.specialty.code == "207RC0000X"
    assert physician.specialty.name
    assert physician.verification == pb.VERIFICATION_STATUS_PENDING
    assert list(physician.roles) == [pb.ROLE_MEMBER]


@pytest.mark.parametrize(
    ("field", "bad_value"),
    [
        ("email", "not-an-email"),
        ("password", "short"),
        ("full_name", ""),
        ("npi", "1234567890"),
        ("specialty_code", "999999999X"),
        ("country", "ZZ"),
    ],
)
async def test_register_names_the_bad_field(
    identity: IdentityClient, field: str, bad_value: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.Register(good_registration(**{field: bad_value}))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(caught.value) == [field]
    if bad_value:
        assert bad_value not in caught.value.details()


async def test_register_names_every_bad_field_at_once(identity: IdentityClient) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.Register(pb.RegisterRequest())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert sorted(violations(caught.value)) == sorted(
        ["email", "password", "full_name", "npi", "specialty_code", "country"]
    )


async def test_duplicate_email_and_npi_are_already_exists(identity: IdentityClient) -> None:
    first = good_registration()
    await identity.stub.Register(first)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.Register(good_registration(email=first.email.upper()))
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert violations(caught.value) == ["email"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.Register(good_registration(npi=first.npi))
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert violations(caught.value) == ["npi"]
    assert first.npi not in caught.value.details()


async def test_login_issues_a_token_the_public_keys_verify(identity: IdentityClient) -> None:
    physician = await identity.register()
    reply = await identity.stub.Login(pb.LoginRequest(email=physician.email, password=PASSWORD))
    assert reply.physician.user_id == physician.user_id
    keys = await identity.stub.GetPublicKeys(pb.GetPublicKeysRequest())
    jwks = json.loads(keys.jwks_json)
    assert jwks["keys"][0]["kty"] == "OKP"
    assert "d" not in jwks["keys"][0], "the private key must never be published"
    claims = TokenVerifier.from_jwks(jwks).verify(reply.access_token)
    assert claims.user_id == physician.user_id
    assert reply.expires_at.ToDatetime().timestamp() == pytest.approx(claims.expires_at.timestamp())


@pytest.mark.parametrize("case", ["wrong password", "unknown email"])
async def test_login_failures_are_indistinguishable(identity: IdentityClient, case: str) -> None:
    physician = await identity.register()
    email = physician.email if case == "wrong password" else "nobody@example.org"
    password = "wrong password 123" if case == "wrong password" else PASSWORD
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.Login(pb.LoginRequest(email=email, password=password))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert caught.value.details() == "email or password is incorrect"


async def test_login_without_fields_names_them(identity: IdentityClient) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await identity.stub.Login(pb.LoginRequest())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert sorted(violations(caught.value)) == ["email", "password"]


async def test_specialties_are_listed_with_nucc_codes(identity: IdentityClient) -> None:
    reply = await identity.stub.ListSpecialties(pb.ListSpecialtiesRequest())
    codes = {s.code: s.name for s in reply.specialties}
    assert codes["207RC0000X"]
    names = [s.name for s in reply.specialties]
    assert names == sorted(names)
