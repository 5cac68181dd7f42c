"""The ledger's own Ed25519 key, which signs its checkpoints as a C2SP note signer.

Loaded like a producer's key (`plumbing.auditkeys`): `CONSILIUM_AUDIT_CHECKPOINT_KEY` (a PKCS#8
PEM), else `CONSILIUM_AUDIT_CHECKPOINT_KEY_FILE`, else in dev only a key generated once at
`<data dir>/audit/checkpoint/keys/audit-signing-key.pem`. Its verifier key
(`<name>+<hash>+<key>`) is what auditors pin; in dev it is also written to
`<data dir>/audit/checkpoint-key.vkey`, where the `consilium audit` tools find it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from plumbing.auditkeys import load_audit_signing_key
from plumbing.tlog import NoteSigner

log = logging.getLogger("consilium.audit")

#: The note key name: checkpoints of every producer's log are signed under it.
KEY_NAME = "consilium.audit"
DEV_VKEY_PATH = Path("audit", "checkpoint-key.vkey")


def ledger_signer(data_dir: Path, *, dev: bool, pem: str | None, file: Path | None) -> NoteSigner:
    key, origin = load_audit_signing_key(
        "checkpoint",
        data_dir / "audit",
        allow_dev_key=dev,
        # "" rather than None: the producer variables are not the ledger's to read.
        env_pem=pem or "",
        file=file,
    )
    signer = NoteSigner(KEY_NAME, key.private_key)
    vkey = signer.verifier.vkey
    if dev:
        path = data_dir / DEV_VKEY_PATH
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text().strip() != vkey:
            path.write_text(vkey + "\n")
    log.info("audit checkpoint key: %s, verifier key %s", origin.value, vkey)
    return signer
