"""Trusted-document manifests: Relay's / The Guild's `{hash: document}` map or Apollo's format.

Both formats are what the clients' own tooling emits (Relay's `persistConfig`, The Guild's
client preset, `@apollo/generate-persisted-query-manifest`) and what `consilium persisted
build` writes. Every id must be the sha256 of its document: a manifest that says otherwise
was built from other files than it claims, and the gateway refuses to start on it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The `format` of Apollo's persisted-query manifest, and the one version it has.
APOLLO_FORMAT = "apollo-persisted-query-manifest"
APOLLO_VERSION = 1

_SHA256 = re.compile(r"[0-9a-f]{64}")


class ManifestError(ValueError):
    """The manifest cannot be used; the message names the file and the bad entry."""


def sha256_hex(document: str) -> str:
    """The id of a document: the hex sha256 of its UTF-8 text, as Apollo's and Relay's
    clients compute it."""
    return hashlib.sha256(document.encode()).hexdigest()


def normalize_id(document_id: str) -> str | None:
    """The bare lowercase hex of `document_id` (`sha256:<hex>`, GraphQL over HTTP's prefixed
    form, or plain hex), or None when it is no sha256 at all."""
    value = document_id.strip().lower().removeprefix("sha256:")
    return value if _SHA256.fullmatch(value) else None


def parse_manifest(data: Any, source: str = "manifest") -> dict[str, str]:
    """The verified `{sha256 hex: document}` of a decoded manifest in either format."""
    if isinstance(data, Mapping) and data.get("format") == APOLLO_FORMAT:
        return _apollo(data, source)
    if isinstance(data, Mapping) and "format" not in data:
        return _verified([(key, doc, f"entry {key!r}") for key, doc in data.items()], source)
    raise ManifestError(
        f"{source}: expected a JSON object mapping sha256 hex ids to documents, or Apollo's "
        f'persisted-query manifest ({{"format": "{APOLLO_FORMAT}", "version": 1, '
        '"operations": [...]})'
    )


def load_manifest(path: Path) -> dict[str, str]:
    """Reads and verifies the manifest at `path` (raises ManifestError saying what is wrong)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read the persisted manifest ({exc.strerror})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: the persisted manifest is not JSON ({exc})") from exc
    return parse_manifest(data, str(path))


def _apollo(data: Mapping[str, Any], source: str) -> dict[str, str]:
    if data.get("version") != APOLLO_VERSION:
        raise ManifestError(
            f"{source}: Apollo manifest version {data.get('version')!r}; "
            f"only version {APOLLO_VERSION} is known"
        )
    operations = data.get("operations")
    if not isinstance(operations, list):
        raise ManifestError(f"{source}: `operations` must be a list")
    entries: list[tuple[object, object, str]] = []
    for index, operation in enumerate(operations):
        if not isinstance(operation, Mapping):
            raise ManifestError(f"{source}: operations[{index}] is not an object")
        name = operation.get("name")
        label = f"operations[{index}]" + (f" ({name})" if isinstance(name, str) else "")
        entries.append((operation.get("id"), operation.get("body"), label))
    return _verified(entries, source)


def _verified(entries: list[tuple[object, object, str]], source: str) -> dict[str, str]:
    documents: dict[str, str] = {}
    for document_id, document, label in entries:
        if not isinstance(document_id, str) or not isinstance(document, str):
            raise ManifestError(f"{source}: {label}: the id and the document must be strings")
        key = normalize_id(document_id)
        if key is None:
            hint = (
                " (32 hex digits is MD5, Relay's default: set persistConfig's algorithm to SHA256)"
                if re.fullmatch(r"[0-9a-fA-F]{32}", document_id)
                else ""
            )
            raise ManifestError(f"{source}: {label}: the id is not a sha256 hex digest{hint}")
        actual = sha256_hex(document)
        if actual != key:
            raise ManifestError(
                f"{source}: {label}: the id is not the sha256 of its document "
                f"(the document hashes to {actual}); rebuild the manifest"
            )
        documents[key] = document
    return documents
