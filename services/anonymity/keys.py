"""Loads the master key ring: env JSON, a key file, or dev keys generated once (0600).

The JSON is `{"active_kid": "k2", "keys": {"k1": "<base64 32 bytes>", "k2": "..."},
"index_key": "<base64 32 bytes>"}`. Rotate by adding a key and making it active while the
old ones stay in `keys`: new data keys are wrapped with the active KEK, older wraps still
open. The index key must never change (blind indexes are not recomputable). Production
(`CONSILIUM_ENV=production`) refuses to generate keys: losing generated keys would shred
every alias at once.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import os
import secrets
from pathlib import Path
from typing import Any

from services.anonymity.domain.crypto import MasterKeys, new_key

KEYS_ENV = "CONSILIUM_ANONYMITY_MASTER_KEYS"
KEYS_FILE_ENV = "CONSILIUM_ANONYMITY_MASTER_KEYS_FILE"
#: Where dev keys live, relative to the data dir.
DEV_KEYS_PATH = Path("anonymity", "keys", "master-keys.json")


class MasterKeyError(Exception):
    """The master keys could not be loaded: a configuration fault at startup."""


class KeySource(enum.Enum):
    ENV = "env"
    FILE = "file"
    DEV_KEYS_LOADED = "dev-keys-loaded"
    DEV_KEYS_GENERATED = "dev-keys-generated"


def parse_master_keys(text: str, *, origin: str) -> MasterKeys:
    """MasterKeys from the JSON document; errors name `origin`, never key material."""
    try:
        document: Any = json.loads(text)
        keys = {str(k): _b64(v) for k, v in document["keys"].items()}
        return MasterKeys(
            keys=keys, active_kid=str(document["active_kid"]), index_key=_b64(document["index_key"])
        )
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise MasterKeyError(
            f"{origin}: expected JSON {{'active_kid', 'keys': {{kid: base64 32-byte key}}, "
            "'index_key'}} with the active kid among the keys"
        ) from exc


def dump_master_keys(keys: MasterKeys) -> str:
    return json.dumps(
        {
            "active_kid": keys.active_kid,
            "keys": {kid: base64.b64encode(k).decode() for kid, k in keys.keys.items()},
            "index_key": base64.b64encode(keys.index_key).decode(),
        },
        indent=2,
        sort_keys=True,
    )


def load_master_keys(
    data_dir: Path,
    *,
    allow_dev_keys: bool,
    env_json: str | None = None,
    file: Path | None = None,
) -> tuple[MasterKeys, KeySource]:
    """From `env_json`, else `file`, else (dev only) `<data_dir>/anonymity/keys/`."""
    env_json = env_json if env_json is not None else os.environ.get(KEYS_ENV)
    if env_json:
        return parse_master_keys(env_json, origin=KEYS_ENV), KeySource.ENV
    file_name = file or (Path(os.environ[KEYS_FILE_ENV]) if os.environ.get(KEYS_FILE_ENV) else None)
    if file_name is not None:
        try:
            text = file_name.read_text()
        except OSError as exc:
            raise MasterKeyError(f"{KEYS_FILE_ENV}: cannot read {file_name}") from exc
        return parse_master_keys(text, origin=str(file_name)), KeySource.FILE
    if not allow_dev_keys:
        raise MasterKeyError(
            f"no master keys: set {KEYS_ENV} or {KEYS_FILE_ENV} (dev keys are never "
            "generated in production)"
        )
    return _dev_keys(data_dir / DEV_KEYS_PATH)


def _dev_keys(path: Path) -> tuple[MasterKeys, KeySource]:
    if path.exists():
        return parse_master_keys(path.read_text(), origin=str(path)), KeySource.DEV_KEYS_LOADED
    kid = "dev-" + secrets.token_hex(4)
    keys = MasterKeys(keys={kid: new_key()}, active_kid=kid, index_key=new_key())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written whole to a private temporary file, then linked into place: of two processes
    # starting at once, one link wins and the other reads the winner's complete file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(dump_master_keys(keys))
    try:
        os.link(temporary, path)
    except FileExistsError:
        return parse_master_keys(path.read_text(), origin=str(path)), KeySource.DEV_KEYS_LOADED
    finally:
        temporary.unlink(missing_ok=True)
    return keys, KeySource.DEV_KEYS_GENERATED


def _b64(value: object) -> bytes:
    if not isinstance(value, str):
        raise TypeError("keys are base64 strings")
    return base64.b64decode(value, validate=True)
