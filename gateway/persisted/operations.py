"""Which document a request runs: its own, a trusted one by id, or one registered by APQ.

Modes (`CONSILIUM_GATEWAY_PERSISTED_MODE`):
- `off`: ids are not understood (`PERSISTED_QUERY_NOT_SUPPORTED`, on which Apollo's link
  stops sending hashes); free-form documents run.
- `allow`: trusted documents run by id, free-form documents run, and Apollo's automatic
  persisted queries register documents in a bounded in-process LRU.
- `only`: only the manifest's documents run; anything else is refused before it is parsed.

The error messages of the two protocol signals are the exact strings Apollo Server sends
(`PersistedQueryNotFound`, `PersistedQueryNotSupported`): older clients match on them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.persisted.manifest import ManifestError, load_manifest, normalize_id, sha256_hex
from gateway.settings import GatewaySettings

Mode = Literal["off", "allow", "only"]

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
REQUIRED = "PERSISTED_QUERY_REQUIRED"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"

#: Codes a client acts on (Apollo's link retries with the document, or stops hashing). Apollo
#: Server answers them 200 and uncached, so error handling for 4xx never hides them.
SIGNALS = frozenset({NOT_FOUND, NOT_SUPPORTED})

#: The automatic-persisted-queries protocol version clients send; the only one there is.
APQ_VERSION = 1


class PersistedRefusal(Exception):
    """The request names no document this gateway will run; nothing was parsed or called."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def signal(self) -> bool:
        return self.code in SIGNALS

    def body(self) -> dict[str, Any]:
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


class DocumentCache:
    """The documents APQ registered, least recently used evicted past `capacity`."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._documents: OrderedDict[str, str] = OrderedDict()

    def get(self, key: str) -> str | None:
        document = self._documents.get(key)
        if document is not None:
            self._documents.move_to_end(key)
        return document

    def put(self, key: str, document: str) -> None:
        self._documents[key] = document
        self._documents.move_to_end(key)
        while len(self._documents) > self.capacity:
            self._documents.popitem(last=False)

    def __len__(self) -> int:
        return len(self._documents)


@dataclass(frozen=True)
class PersistedOperations:
    """The gateway's trusted documents, its APQ cache and the mode that decides between them."""

    mode: Mode = "allow"
    trusted: Mapping[str, str] = field(default_factory=dict)
    cache: DocumentCache = field(default_factory=lambda: DocumentCache(1000))

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> PersistedOperations:
        """Loads and verifies the manifest (ManifestError names the bad entry)."""
        path = settings.persisted_manifest
        if settings.persisted_mode == "only" and path is None:
            raise ManifestError(
                "CONSILIUM_GATEWAY_PERSISTED_MODE=only runs the operations of a manifest: set "
                "CONSILIUM_GATEWAY_PERSISTED_MANIFEST (build one with `consilium persisted build`)"
            )
        return cls(
            mode=settings.persisted_mode,
            trusted=load_manifest(path) if path is not None else {},
            cache=DocumentCache(settings.persisted_cache_size),
        )

    def resolve(self, params: Mapping[str, Any]) -> str | None:
        """The document to run for a request's parameters (its JSON body or GET query
        parameters, `extensions` decoded), or raises PersistedRefusal."""
        query = params.get("query")
        query = query if isinstance(query, str) else None
        requested = self._requested_id(params, query)
        if requested is None:
            if self.mode == "only":
                raise PersistedRefusal(
                    REQUIRED,
                    "this gateway runs only its trusted documents: send `documentId` (or "
                    "Apollo's extensions.persistedQuery) of an operation in its manifest",
                )
            return query
        key = normalize_id(requested)
        if key is None:
            raise PersistedRefusal(NOT_FOUND, "a document id is the sha256 hex of the document")
        if query is not None:
            if sha256_hex(query) != key:
                raise PersistedRefusal(
                    HASH_MISMATCH, "the document's sha256 is not the id sent with it"
                )
            if key in self.trusted:
                return query
            if self.mode == "only":
                raise self._not_listed()
            self.cache.put(key, query)
            return query
        document = self.trusted.get(key)
        if document is None and self.mode == "allow":
            document = self.cache.get(key)
        if document is None:
            raise self._not_listed() if self.mode == "only" else self._not_found()
        return document

    def _requested_id(self, params: Mapping[str, Any], query: str | None) -> str | None:
        extensions = params.get("extensions")
        persisted = extensions.get("persistedQuery") if isinstance(extensions, Mapping) else None
        document_id = _document_id(params)
        if persisted is None and document_id is None:
            return None
        if self.mode == "off":
            if query is not None:
                return None  # the document came along: run it, as without the id
            raise PersistedRefusal(NOT_SUPPORTED, "PersistedQueryNotSupported")
        if persisted is None:
            return document_id
        if not isinstance(persisted, Mapping) or persisted.get("version") != APQ_VERSION:
            raise PersistedRefusal(
                NOT_SUPPORTED, "PersistedQueryNotSupported: extensions.persistedQuery version 1"
            )
        sha = persisted.get("sha256Hash")
        return sha if isinstance(sha, str) else ""

    def _not_found(self) -> PersistedRefusal:
        return PersistedRefusal(NOT_FOUND, "PersistedQueryNotFound")

    def _not_listed(self) -> PersistedRefusal:
        return PersistedRefusal(
            NOT_FOUND,
            "PersistedQueryNotFound: this gateway runs only the operations of its trusted "
            "documents manifest, and this id is not one of them",
        )


def _document_id(params: Mapping[str, Any]) -> str | None:
    """GraphQL over HTTP's `documentId`, or Relay's customary `doc_id`."""
    for name in ("documentId", "doc_id"):
        value = params.get(name)
        if isinstance(value, str):
            return value
    return None
