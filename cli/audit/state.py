"""What an auditor keeps between runs (`--state FILE`): the ledger's key and its checkpoints.

    {"ledger_key": "<vkey>", "checkpoints": {"<producer>": "<signed checkpoint note>"}}

The next run demands a consistency proof from each kept checkpoint to the ledger's newest, so
a ledger that rewrote or rolled back its history fails. The file is replaced only after a run
with no finding, so a rollback keeps failing until someone looks.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class AuditorState:
    ledger_key: str = ""
    checkpoints: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None) -> AuditorState:
        if path is None or not path.exists():
            return cls()
        document = json.loads(path.read_text())
        return cls(str(document.get("ledger_key", "")), dict(document.get("checkpoints", {})))

    def save(self, path: Path) -> None:
        document = {"ledger_key": self.ledger_key, "checkpoints": self.checkpoints}
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        os.replace(temporary, path)
