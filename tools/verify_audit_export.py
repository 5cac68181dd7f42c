#!/usr/bin/env python3
"""Verifies a `consilium audit export` with nothing of Consilium: Python 3.11 and cryptography.

    python verify_audit_export.py EXPORT.jsonl --producers producers.json --ledger-key VKEY

`producers.json` pins each producer's Ed25519 public keys, `{"<producer>": ["<PEM>", ...]}`;
VKEY is the ledger's checkpoint verifier key (`consilium.audit+<hash>+<base64 key>`) you pinned.
It checks, for every producer: the checkpoint is signed by the ledger's key (C2SP signed note,
tlog-checkpoint) for origin `consilium.audit/<producer>`; the export holds exactly the
checkpoint's events 1..N; each event's bytes hash and link into the producer's chain and are
signed by the chain's key (pinned to that producer, changed only by a KEY_ROTATED event signed
with the old key); the decoded fields say what the signed bytes say; and
each event's inclusion proof leads from its bytes to the checkpoint's root (RFC 6962). A
pinned producer with no checkpoint, and a producer nobody pinned, fail too. Exit 1 on any fault.

This file and its sibling `audit_event_wire.py` (the AuditEvent wire format) import nothing
from Consilium on purpose: an external auditor can read every line they rely on (about 420,
against the 1,500 of the packages they mirror), and a change to our code cannot silently
change what the auditor's check accepts. The algorithms are those of
plumbing/tlog and plumbing/auditchain; tests/integration/audit/test_audit_export.py holds the
two to the same answers.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

# Its sibling file, found even under `python -I` (which leaves the script's folder off the path).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_event_wire import KEY_ROTATED, Fault, check_decoded, read_event

# -- RFC 6962 / 9162 Merkle proofs, C2SP signed notes and checkpoints --


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        raise Fault(f"leaf index {index} is outside a tree of {size}")
    fn, sn, root = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            raise Fault("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            root = node_hash(sibling, root)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            root = node_hash(root, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Fault("the inclusion proof is too short")
    return root


def parse_vkey(vkey: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """`<name>+<8 hex key hash>+<base64(0x01 || key)>`, its hash checked."""
    try:
        name, hash_hex, key_b64 = vkey.strip().split("+", 2)
        encoded = base64.b64decode(key_b64, validate=True)
        claimed = bytes.fromhex(hash_hex)
    except (ValueError, binascii.Error):
        raise Fault("the ledger key is not name+hash+key") from None
    if len(encoded) != 33 or encoded[0] != 1:
        raise Fault("the ledger key is not an Ed25519 key")
    if hashlib.sha256(name.encode() + b"\n" + encoded).digest()[:4] != claimed:
        raise Fault("the ledger key's hash does not match the key")
    return name, claimed, Ed25519PublicKey.from_public_bytes(encoded[1:])


def open_checkpoint(note: str, origin: str, vkey: str) -> tuple[int, bytes]:
    """(size, root) of a checkpoint signed by the pinned ledger key for `origin`."""
    name, key_hash, public = parse_vkey(vkey)
    text, sep, signatures = note.partition("\n\n")
    if not sep:
        raise Fault("the checkpoint is not a signed note")
    text += "\n"
    signed = False
    for line in signatures.splitlines():
        prefix = f"\u2014 {name} "
        if not line.startswith(prefix):
            continue
        blob = base64.b64decode(line[len(prefix) :])
        if blob[:4] != key_hash:
            continue
        try:
            public.verify(blob[4:], text.encode())
            signed = True
        except InvalidSignature:
            raise Fault("the checkpoint's signature does not verify") from None
    if not signed:
        raise Fault("the checkpoint is not signed by the pinned ledger key")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or lines[0] != origin:
        raise Fault(f"the checkpoint is not for {origin}")
    return int(lines[1]), base64.b64decode(lines[2], validate=True)


def key_id(public: Ed25519PublicKey) -> str:
    """RFC 7638 thumbprint, as producers name their keys."""
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    return (
        base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    )


def load_pins(path: Path) -> dict[str, dict[str, Ed25519PublicKey]]:
    pins: dict[str, dict[str, Ed25519PublicKey]] = {}
    for producer, pems in json.loads(path.read_text()).items():
        pins[producer] = {}
        for pem in pems:
            if "-----BEGIN" not in pem:
                raise Fault(f"{producer}: pin public keys as PEM here, not key ids")
            public = load_pem_public_key(pem.encode())
            if not isinstance(public, Ed25519PublicKey):
                raise Fault(f"{producer}: audit keys are Ed25519")
            pins[producer][key_id(public)] = public
    return pins


# -- the export --


def check_signature(
    sequence: int,
    signed: dict[str, Any],
    digest: bytes,
    keys: dict[str, Ed25519PublicKey],
    current: str,
    producer: str,
) -> str:
    """Checks one event's signature by the chain's key; returns the chain's key after it.

    A KEY_ROTATED event, signed with the chain's key, adds its new key to `keys`."""
    kid = signed.get("key_id", "")
    rotation = signed.get("action") == KEY_ROTATED
    if current and kid != current:
        what = "KEY_ROTATED event" if rotation else "event"
        raise Fault(
            f"{what} {sequence} is signed with key {kid}, but the chain is signed with "
            f"{current} there: a key changes only by a KEY_ROTATED event signed with the old one"
        )
    public = keys.get(kid)
    if public is None:
        raise Fault(f"event {sequence} is signed by a key not pinned to {producer}")
    try:
        public.verify(signed.get("signature", b""), digest)
    except InvalidSignature:
        if rotation:
            raise Fault(f"KEY_ROTATED event {sequence}'s signature does not verify") from None
        raise Fault(f"event {sequence}'s signature does not verify: forged") from None
    if not rotation:
        return kid
    try:
        new = Ed25519PublicKey.from_public_bytes(signed.get("new_public_key", b""))
    except ValueError:
        raise Fault(f"KEY_ROTATED event {sequence} carries no Ed25519 public key") from None
    keys[key_id(new)] = new
    return key_id(new)


def verify_producer(
    producer: str,
    checkpoint: dict[str, Any],
    events: list[dict[str, Any]],
    keys: dict[str, Ed25519PublicKey],
    vkey: str,
) -> int:
    size, root = open_checkpoint(checkpoint["checkpoint"], f"consilium.audit/{producer}", vkey)
    if [e.get("sequence") for e in events] != list(range(1, size + 1)):
        raise Fault(f"the export does not hold exactly events 1..{size} of the checkpoint")
    prev = bytes(32)
    keys = dict(keys)
    current = ""  # the key id signing the chain: the first event's, then each rotation's
    for line in events:
        data = base64.b64decode(line["bytes"], validate=True)
        signed, body = read_event(data)
        sequence = line["sequence"]
        if signed.get("producer") != producer or signed.get("sequence") != sequence:
            raise Fault(f"event {sequence} is not {producer}'s event {sequence}")
        check_decoded(line.get("fields", {}), signed)
        if signed.get("prev_hash", b"") != prev:
            raise Fault(f"event {sequence} does not link to event {sequence - 1}")
        digest = hashlib.sha256(prev + body).digest()
        if digest != signed.get("hash"):
            raise Fault(f"event {sequence} does not hash to its hash: it was modified")
        current = check_signature(sequence, signed, digest, keys, current, producer)
        proof = line["inclusion"]
        hashes = [base64.b64decode(h, validate=True) for h in proof["hashes"]]
        if proof["leaf_index"] != sequence - 1 or proof["tree_size"] != size:
            raise Fault(f"event {sequence}'s proof is for another position or size")
        if root_from_inclusion(sequence - 1, size, leaf_hash(data), hashes) != root:
            raise Fault(f"event {sequence} is not in the signed log")
        prev = digest
    return size


def verify_export(path: Path, pins: dict[str, dict[str, Ed25519PublicKey]], vkey: str) -> list[str]:
    """Faults found (empty when the export verifies), one sentence each."""
    checkpoints: dict[str, dict[str, Any]] = {}
    events: dict[str, list[dict[str, Any]]] = {}
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if not text.strip():
            continue
        line = json.loads(text)
        if line.get("type") == "checkpoint":
            checkpoints[line["producer"]] = line
        elif line.get("type") == "event":
            events.setdefault(line["producer"], []).append(line)
        else:
            return [f"line {number} is neither a checkpoint nor an event"]
    faults = [
        f"{p}: MISSING_PRODUCER: pinned, but not in the export"
        for p in sorted(pins)
        if p not in checkpoints
    ]
    for producer in sorted(set(checkpoints) | set(events)):
        if producer not in pins:
            faults.append(f"{producer}: UNKNOWN_PRODUCER: nobody pinned its keys")
            continue
        if producer not in checkpoints:
            faults.append(f"{producer}: events without a checkpoint")
            continue
        try:
            size = verify_producer(
                producer, checkpoints[producer], events.get(producer, []), pins[producer], vkey
            )
            print(f"{producer}: {size} events verified against its signed checkpoint")
        except (Fault, KeyError, ValueError, binascii.Error) as exc:
            faults.append(f"{producer}: {exc}")
    return faults


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", type=Path)
    parser.add_argument("--producers", type=Path, required=True, help="pinned producer keys")
    parser.add_argument("--ledger-key", required=True, help="the ledger's note verifier key")
    args = parser.parse_args(argv)
    try:
        faults = verify_export(args.export, load_pins(args.producers), args.ledger_key)
    except (Fault, ValueError, OSError) as exc:
        faults = [str(exc)]
    for fault in faults:
        print(f"FAIL {fault}")
    print("export: ok" if not faults else f"export: {len(faults)} problem(s)")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())
