"""The AuditEvent wire format, read by hand for tools/verify_audit_export.py: the fields an
auditor checks, and the bytes the chain hash covers. Python 3.11 only, nothing of Consilium.

tests/unit/audit/test_export_verifier_tables.py keeps these tables in step with
protos/consilium/audit/v1/audit.proto.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

CHAIN_FIELDS = {16, 17, 18, 19}  # prev_hash, hash, signature, key_id: outside the chain hash
STRINGS = {
    1: "event_id",
    3: "producer",
    5: "actor_id",
    7: "subject_id",
    11: "purpose",
    13: "denial_reason",
    14: "trace_id",
    15: "span_id",
    19: "key_id",
}
BYTES = {16: "prev_hash", 17: "hash", 18: "signature", 20: "sealed_subject", 21: "new_public_key"}
KEY_ROTATED = "ACTION_KEY_ROTATED"
ROLES = "UNSPECIFIED MEMBER MODERATOR AUDITOR ADMIN SERVICE"
ACTIONS = """UNSPECIFIED REVEAL_ALIAS SUSPEND_ALIAS REINSTATE_ALIAS LIST_ALIASES ERASE_ALIASES
RESOLVE_ALIAS READ_PROFILE VERIFY_PHYSICIAN SET_ROLES SUSPEND_PHYSICIAN REINSTATE_PHYSICIAN
ERASE_PHYSICIAN"""
ENUMS: dict[int, tuple[str, str, dict[int, str]]] = {
    6: ("actor_role", "ACTOR_ROLE_", dict(enumerate(ROLES.split()))),
    8: (
        "subject_kind",
        "SUBJECT_KIND_",
        dict(enumerate(["UNSPECIFIED", "USER", "ALIAS", "USER_TAG", "AUDIT_LOG", "CONTENT_ITEM"])),
    ),
    9: (
        "action",
        "ACTION_",
        dict(enumerate(ACTIONS.split()))
        | {
            20: "HIDE_ALIAS",
            21: "UNHIDE_ALIAS",
            30: "KEY_ROTATED",
            31: "QUERY_AUDIT_EVENTS",
            32: "VERIFY_AUDIT_CHAINS",
            33: "READ_AUDIT_CHECKPOINT",
            34: "READ_INCLUSION_PROOF",
            35: "READ_CONSISTENCY_PROOF",
            36: "LIST_CHAIN_EVENTS",
            37: "MODERATE_CONTENT",
        },
    ),
    12: ("decision", "DECISION_", dict(enumerate(["UNSPECIFIED", "GRANTED", "DENIED"]))),
}


class Fault(Exception):
    """What is wrong, in a sentence."""


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise Fault("the event bytes are not a protobuf message")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            return value, at


def read_event(data: bytes) -> tuple[dict[str, Any], bytes]:
    """(the event's fields, its bytes without the chain fields): the body the hash covers."""
    fields: dict[str, Any] = {"fields": []}
    body = bytearray()
    at = 0
    while at < len(data):
        start = at
        tag, at = _varint(data, at)
        number, wire = tag >> 3, tag & 7
        scalar, payload = 0, b""
        if wire == 0:
            scalar, at = _varint(data, at)
        elif wire == 2:
            length, at = _varint(data, at)
            payload, at = data[at : at + length], at + length
            if at > len(data):
                raise Fault("the event bytes are truncated")
        elif wire in (1, 5):
            at += 8 if wire == 1 else 4
        else:
            raise Fault(f"unsupported wire type {wire}")
        if number not in CHAIN_FIELDS:
            body += data[start:at]
        expected = 0 if number in ENUMS or number == 4 else 2
        if number <= 21 and wire != expected:
            raise Fault(f"field {number} has the wrong wire type")
        if number in STRINGS:
            fields[STRINGS[number]] = payload.decode()
        elif number in BYTES:
            fields[BYTES[number]] = payload
        elif number in ENUMS:
            name, prefix, names = ENUMS[number]
            fields[name] = prefix + names.get(scalar, str(scalar))
        elif number == 4:
            fields["sequence"] = scalar
        elif number == 10:
            fields["fields"].append(payload.decode())
        elif number == 2:
            fields["occurred_at"] = read_timestamp(payload)
    return fields, bytes(body)


def read_timestamp(data: bytes) -> tuple[int, int]:
    """(seconds, nanos) of a google.protobuf.Timestamp."""
    seconds = nanos = 0
    at = 0
    while at < len(data):
        tag, at = _varint(data, at)
        value, at = _varint(data, at)
        if tag >> 3 == 1:
            seconds = value
        elif tag >> 3 == 2:
            nanos = value
    return seconds, nanos


def check_decoded(claimed: dict[str, Any], signed: dict[str, Any]) -> None:
    """The export's readable fields must say what the signed bytes say."""
    for key, value in claimed.items():
        if key in BYTES.values():
            actual: Any = base64.b64encode(signed.get(key, b"")).decode()
        elif key == "sequence":
            actual, value = signed.get(key, 0), int(value)
        elif key == "occurred_at":
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            seconds, nanos = signed.get(key, (0, 0))
            actual = datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1000)
            value = moment
        elif key in signed or key in {*STRINGS.values(), *(e[0] for e in ENUMS.values())}:
            actual = signed.get(key, [] if key == "fields" else "")
        else:
            raise Fault(f"the decoded field {key!r} is not part of an audit event")
        if value != actual:
            raise Fault(f"the decoded {key} does not match the signed bytes")
