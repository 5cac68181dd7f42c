"""Starting on a database already at the scripts' head skips Alembic; any other state migrates."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from plumbing import db
from services.anonymity.app import MIGRATIONS as ANONYMITY
from services.audit.app import MIGRATIONS as AUDIT
from services.content.app import MIGRATIONS as CONTENT
from services.identity.app import MIGRATIONS as IDENTITY


@pytest.mark.parametrize("scripts", [IDENTITY, ANONYMITY, CONTENT, AUDIT], ids=str)
def test_head_read_from_the_files_is_alembics(scripts: Path) -> None:
    expected = ScriptDirectory.from_config(db._alembic_config(scripts)).get_current_head()
    assert db.script_head(scripts) == expected


def test_a_merge_is_left_to_alembic(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (versions / "b.py").write_text('revision = "b"\ndown_revision = "a"\n')
    (versions / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')
    assert db.script_head(tmp_path) is None  # two heads
    (versions / "m.py").write_text('revision = "m"\ndown_revision = ("b", "c")\n')
    assert db.script_head(tmp_path) is None  # a merge revision


async def test_only_a_database_behind_the_head_runs_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'content.db'}")
    upgrades: list[str] = []
    original = command.upgrade

    def counting(config: object, revision: str) -> None:
        upgrades.append(revision)
        original(config, revision)  # type: ignore[arg-type]

    monkeypatch.setattr(command, "upgrade", counting)
    try:
        await db.migrate(engine, CONTENT, "0001")
        await db.migrate(engine, CONTENT)  # behind: migrates
        await db.migrate(engine, CONTENT)  # at head: left alone
        assert upgrades == ["0001", "head"]
        assert await db._at_revision(engine, db.script_head(CONTENT) or "")
    finally:
        await engine.dispose()
