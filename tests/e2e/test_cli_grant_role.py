"""`consilium grant-role`: the operator's bootstrap of a role (e.g. the first ADMIN)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from plumbing.auth import Role
from services.identity.app import build
from services.identity.seed import DEMO_PASSWORD
from services.identity.settings import IdentitySettings


def consilium(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CONSILIUM_DATA_DIR": str(data_dir),
        "CONSILIUM_IDENTITY_ARGON2_TIME_COST": "1",
        "CONSILIUM_IDENTITY_ARGON2_MEMORY_KIB": "1024",
    }
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_grant_role_adds_the_role_and_refuses_bad_input(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert consilium(data_dir, "seed").returncode == 0
    granted = consilium(data_dir, "grant-role", "Moderator@Demo.Consilium", "auditor")
    assert granted.returncode == 0, granted.stderr
    assert "AUDITOR granted to usr_" in granted.stdout

    unknown = consilium(data_dir, "grant-role", "nobody@example.org", "ADMIN")
    assert unknown.returncode == 1
    assert "no account with that email" in unknown.stderr
    bad_role = consilium(data_dir, "grant-role", "moderator@demo.consilium", "OWNER")
    assert bad_role.returncode == 2
    assert "MODERATOR, AUDITOR or ADMIN" in bad_role.stderr

    settings = IdentitySettings(data_dir=data_dir, port=0)
    async with build(settings) as identity:
        result = await identity.service.login(
            email="moderator@demo.consilium", password=DEMO_PASSWORD
        )
    assert {Role.MODERATOR, Role.AUDITOR} <= result.physician.roles
