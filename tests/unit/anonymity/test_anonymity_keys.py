"""Loading the master keys: env JSON, a key file, dev keys made once (0600), production refusal."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from services.anonymity.domain.crypto import MasterKeys
from services.anonymity.keys import (
    DEV_KEYS_PATH,
    KeySource,
    MasterKeyError,
    dump_master_keys,
    load_master_keys,
    parse_master_keys,
)

KEYS = MasterKeys(
    keys={"a": b"\x01" * 32, "b": b"\x02" * 32}, active_kid="b", index_key=b"\x03" * 32
)


def test_env_json_wins(tmp_path: Path) -> None:
    keys, source = load_master_keys(tmp_path, allow_dev_keys=False, env_json=dump_master_keys(KEYS))
    assert source is KeySource.ENV
    assert keys.active_kid == "b" and dict(keys.keys) == dict(KEYS.keys)


def test_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(dump_master_keys(KEYS))
    keys, source = load_master_keys(tmp_path, allow_dev_keys=False, env_json="", file=path)
    assert source is KeySource.FILE and keys.index_key == KEYS.index_key


def test_dev_keys_are_generated_once_with_mode_0600(tmp_path: Path) -> None:
    first, source = load_master_keys(tmp_path, allow_dev_keys=True, env_json="")
    assert source is KeySource.DEV_KEYS_GENERATED
    path = tmp_path / DEV_KEYS_PATH
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second, source = load_master_keys(tmp_path, allow_dev_keys=True, env_json="")
    assert source is KeySource.DEV_KEYS_LOADED
    assert dict(second.keys) == dict(first.keys) and second.index_key == first.index_key


def test_production_refuses_to_generate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSILIUM_ANONYMITY_MASTER_KEYS_FILE", raising=False)
    with pytest.raises(MasterKeyError, match="never generated in production"):
        load_master_keys(tmp_path, allow_dev_keys=False, env_json="")
    assert not (tmp_path / DEV_KEYS_PATH).exists()


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        json.dumps({"active_kid": "x", "keys": {"x": "AAAA"}, "index_key": "AAAA"}),
        json.dumps({"active_kid": "y", "keys": {}, "index_key": ""}),
        json.dumps({"keys": {"x": "!!"}}),
    ],
)
def test_bad_documents_are_refused_without_echoing_them(document: str) -> None:
    with pytest.raises(MasterKeyError) as caught:
        parse_master_keys(document, origin="ENV")
    assert "AAAA" not in str(caught.value) and str(caught.value).startswith("ENV:")
