"""32-byte secret keys (HMAC, AES): base64 from an environment variable or a file; made in dev.

The one mechanism behind every symmetric key a component holds: the audit tag key
(`plumbing.auditlink`) and identity's login throttle key. First match wins: `<key_env>` (base64
of 32 bytes), the file `<file_env>` names (the same text, e.g. a mounted secret), and in dev
only a key generated once under the data dir (0600). Production refuses to generate one: a key
that only one replica knows would split what the replicas share.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

KEY_BYTES = 32


class SecretKeyError(Exception):
    """A secret key that is missing or malformed: a configuration fault at startup."""


def load_secret_key(
    *,
    key_env: str,
    file_env: str,
    dev_path: Path,
    environ: Mapping[str, str] | None = None,
    allow_dev: bool = True,
    error: type[Exception] = SecretKeyError,
) -> bytes:
    """The key from the first source that has one; errors (as `error`) name the source only."""
    env = os.environ if environ is None else environ
    inline = env.get(key_env, "").strip()
    if inline:
        return _decode(inline, key_env, error)
    path_text = env.get(file_env, "").strip()
    if path_text:
        try:
            return _decode(Path(path_text).read_text().strip(), file_env, error)
        except OSError as exc:
            raise error(f"cannot read {file_env}: {exc.strerror}") from exc
    if not allow_dev:
        raise error(f"no key: set {key_env} or {file_env} (base64 of {KEY_BYTES} bytes)")
    return _decode(_dev_key(dev_path), str(dev_path), error)


def _decode(text: str, where: str, error: type[Exception]) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError:
        raise error(f"{where} is not base64") from None
    if len(key) != KEY_BYTES:
        raise error(f"{where} must hold {KEY_BYTES} bytes (base64), not {len(key)}")
    return key


def _dev_key(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    try:
        os.link(temporary, path)  # another process won the race: use theirs
    except FileExistsError:
        return path.read_text().strip()
    finally:
        temporary.unlink(missing_ok=True)
    return text
