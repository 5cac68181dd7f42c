"""Which document a request runs in each mode: trusted ids, APQ registration, refusals."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from gateway.persisted.operations import (
    HASH_MISMATCH,
    NOT_FOUND,
    NOT_SUPPORTED,
    REQUIRED,
    DocumentCache,
    Mode,
    PersistedOperations,
    PersistedRefusal,
)

LISTED = "query Listed { me { id } }"
OTHER = "query Other { communities { id } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apq(document_hash: str, query: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": document_hash}}
    }
    if query is not None:
        params["query"] = query
    return params


def gateway(mode: Mode, capacity: int = 10) -> PersistedOperations:
    return PersistedOperations(
        mode=mode, trusted={sha(LISTED): LISTED}, cache=DocumentCache(capacity)
    )


def refusal(persisted: PersistedOperations, params: dict[str, Any]) -> PersistedRefusal:
    with pytest.raises(PersistedRefusal) as raised:
        persisted.resolve(params)
    return raised.value


@pytest.mark.parametrize("mode", ["allow", "only"])
def test_a_listed_document_runs_by_document_id_doc_id_or_apollo_hash(mode: Mode) -> None:
    persisted = gateway(mode)

    assert persisted.resolve({"documentId": sha(LISTED)}) == LISTED
    assert persisted.resolve({"documentId": "sha256:" + sha(LISTED)}) == LISTED
    assert persisted.resolve({"doc_id": sha(LISTED)}) == LISTED
    assert persisted.resolve(apq(sha(LISTED))) == LISTED


def test_only_refuses_free_form_and_unlisted_documents() -> None:
    persisted = gateway("only")

    assert refusal(persisted, {"query": OTHER}).code == REQUIRED
    assert refusal(persisted, {"documentId": sha(OTHER)}).code == NOT_FOUND
    # APQ's registration step does not list a document either.
    unlisted = refusal(persisted, apq(sha(OTHER), OTHER))
    assert unlisted.code == NOT_FOUND and "not one of them" in unlisted.message
    assert refusal(persisted, apq(sha(OTHER))).code == NOT_FOUND
    assert len(persisted.cache) == 0


def test_allow_runs_free_form_documents() -> None:
    assert gateway("allow").resolve({"query": OTHER}) == OTHER


def test_automatic_persisted_queries_round_trip_in_allow() -> None:
    persisted = gateway("allow")

    missing = refusal(persisted, apq(sha(OTHER)))
    assert (missing.code, missing.message) == (NOT_FOUND, "PersistedQueryNotFound")
    assert missing.signal
    assert persisted.resolve(apq(sha(OTHER), OTHER)) == OTHER
    assert persisted.resolve(apq(sha(OTHER))) == OTHER
    assert persisted.resolve({"documentId": sha(OTHER)}) == OTHER


def test_a_hash_that_is_not_the_querys_is_refused_and_not_stored() -> None:
    persisted = gateway("allow")

    mismatch = refusal(persisted, apq(sha(LISTED), OTHER))

    assert mismatch.code == HASH_MISMATCH and not mismatch.signal
    assert len(persisted.cache) == 0
    assert refusal(persisted, apq("not-a-hash")).code == NOT_FOUND


def test_the_apq_cache_is_bounded_least_recently_used_first() -> None:
    persisted = gateway("allow", capacity=2)
    documents = [f"query Q{n} {{ me {{ id }} }}" for n in range(3)]
    persisted.resolve(apq(sha(documents[0]), documents[0]))
    persisted.resolve(apq(sha(documents[1]), documents[1]))
    persisted.resolve(apq(sha(documents[0])))  # used again: documents[1] is now the oldest

    persisted.resolve(apq(sha(documents[2]), documents[2]))

    assert len(persisted.cache) == 2
    assert persisted.resolve(apq(sha(documents[0]))) == documents[0]
    assert refusal(persisted, apq(sha(documents[1]))).code == NOT_FOUND


def test_off_does_not_understand_ids_but_runs_documents() -> None:
    persisted = gateway("off")

    unsupported = refusal(persisted, apq(sha(LISTED)))
    assert (unsupported.code, unsupported.message) == (NOT_SUPPORTED, "PersistedQueryNotSupported")
    assert refusal(persisted, {"documentId": sha(LISTED)}).code == NOT_SUPPORTED
    assert persisted.resolve(apq(sha(OTHER), OTHER)) == OTHER
    assert persisted.resolve({"query": OTHER}) == OTHER
    assert len(persisted.cache) == 0


def test_an_unknown_apq_version_is_not_supported() -> None:
    params = {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha(LISTED)}}}

    assert refusal(gateway("allow"), params).code == NOT_SUPPORTED
