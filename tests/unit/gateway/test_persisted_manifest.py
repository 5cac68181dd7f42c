"""Trusted-document manifests: both formats load, and an id that is not its body's sha256 stops
the gateway at start with the entry named."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.persisted.manifest import ManifestError, load_manifest, normalize_id, parse_manifest
from gateway.persisted.operations import PersistedOperations
from gateway.settings import GatewaySettings

FEED = "query Feed { feed(first: 2) { nodes { id } } }"
ME = "query Me { me { id } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apollo(*operations: dict[str, str]) -> dict[str, object]:
    return {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": list(operations),
    }


def test_relay_map_and_apollo_manifest_give_the_same_documents(tmp_path: Path) -> None:
    relay = tmp_path / "relay.json"
    relay.write_text(json.dumps({sha(FEED): FEED, sha(ME): ME}))
    apollo_file = tmp_path / "apollo.json"
    apollo_file.write_text(
        json.dumps(
            apollo(
                {"id": sha(FEED), "name": "Feed", "type": "query", "body": FEED},
                {"id": sha(ME), "name": "Me", "type": "query", "body": ME},
            )
        )
    )

    assert load_manifest(relay) == load_manifest(apollo_file) == {sha(FEED): FEED, sha(ME): ME}


def test_an_id_that_is_not_the_sha256_of_its_body_is_named() -> None:
    wrong = apollo(
        {"id": sha(FEED), "name": "Feed", "type": "query", "body": FEED},
        {"id": sha(FEED), "name": "Me", "type": "query", "body": ME},
    )

    with pytest.raises(ManifestError) as raised:
        parse_manifest(wrong, "m.json")

    assert "m.json: operations[1] (Me)" in str(raised.value)
    assert sha(ME) in str(raised.value), "the message says what the body hashes to"


def test_relays_default_md5_ids_are_refused_with_the_fix() -> None:
    md5 = hashlib.md5(FEED.encode()).hexdigest()  # what Relay emits by default

    with pytest.raises(ManifestError, match="algorithm to SHA256"):
        parse_manifest({md5: FEED})


@pytest.mark.parametrize(
    "data",
    [[FEED], {"format": "other"}, apollo({"id": 1, "body": FEED}), {**apollo(), "version": 2}],
)
def test_other_shapes_are_refused(data: object) -> None:
    with pytest.raises(ManifestError):
        parse_manifest(data)


def test_unreadable_or_non_json_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ManifestError, match="not JSON"):
        load_manifest(tmp_path / "bad.json")


def test_ids_may_carry_the_sha256_prefix_and_any_case() -> None:
    assert normalize_id("sha256:" + sha(FEED).upper()) == sha(FEED)
    assert normalize_id("abc") is None
    assert parse_manifest({"sha256:" + sha(FEED): FEED}) == {sha(FEED): FEED}


def test_only_mode_without_a_manifest_does_not_start() -> None:
    with pytest.raises(ManifestError, match="CONSILIUM_GATEWAY_PERSISTED_MANIFEST"):
        PersistedOperations.from_settings(GatewaySettings(persisted_mode="only"))


def test_the_settings_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({sha(FEED): FEED}))
    monkeypatch.setenv("CONSILIUM_GATEWAY_PERSISTED_MANIFEST", str(path))
    monkeypatch.setenv("CONSILIUM_GATEWAY_PERSISTED_MODE", "only")

    persisted = PersistedOperations.from_settings(GatewaySettings())

    assert persisted.mode == "only"
    assert persisted.trusted == {sha(FEED): FEED}


def test_the_gateway_does_not_start_on_a_manifest_that_does_not_verify(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({sha(FEED): FEED, sha(FEED)[::-1]: ME}))

    with pytest.raises(ManifestError) as raised:
        create_app(GatewaySettings(persisted_manifest=path, data_dir=tmp_path))

    assert str(path) in str(raised.value) and sha(FEED)[::-1] in str(raised.value)
