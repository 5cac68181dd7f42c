"""A producer's signed head: any change to what it states, or another key, fails to verify."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from consilium.audit.v1 import audit_pb2 as pb
from plumbing.audithead import head_problem, newest, sign_head, statement
from plumbing.signingkeys import SigningKey

KEY = SigningKey.generate()
KEYS = {KEY.key_id: KEY.public_key}
AT = datetime(2026, 11, 29, 19, 0, tzinfo=UTC)


def head(size: int = 7, digest: bytes = b"\x07" * 32) -> pb.SignedHead:
    return sign_head("identity", size, digest, KEY, at=AT)


def test_a_signed_head_verifies_and_states_what_it_signs() -> None:
    signed = head()

    assert head_problem(signed, "identity", KEYS) == ""
    assert statement(signed) == (
        b"consilium.audit.head/v1\nidentity\n7\n" + (b"07" * 32) + b"\n1795978800.000000000\n"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("size", 8), ("head_hash", b"\x08" * 32), ("producer", "anonymity")],
)
def test_a_changed_statement_fails(field: str, value: object) -> None:
    signed = head()
    setattr(signed, field, value)

    assert head_problem(signed, str(signed.producer), KEYS) != ""


def test_another_producers_head_or_another_key_fails() -> None:
    other = SigningKey.generate()

    assert "not 'anonymity'" in head_problem(head(), "anonymity", KEYS)
    assert "not one of" in head_problem(
        sign_head("identity", 1, b"\x01" * 32, other), "identity", KEYS
    )


def test_an_empty_chain_has_the_genesis_head_and_the_longest_head_is_newest() -> None:
    empty = sign_head("identity", 0, b"", KEY)

    assert bytes(empty.head_hash) == bytes(32)
    assert head_problem(empty, "identity", KEYS) == ""
    assert newest([head(3), head(9), head(5)]).size == 9  # type: ignore[union-attr]
    assert newest([]) is None
