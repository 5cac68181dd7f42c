"""`consilium serve NAME [--port N] [--host H]` is parsed without Typer; the rest goes to Typer."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cli.main import plain_serve


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["serve", "content"], ("content", None, None)),
        (["serve", "audit", "--port", "50071"], ("audit", None, 50071)),
        (["serve", "identity", "--port=1", "--host", "0.0.0.0"], ("identity", "0.0.0.0", 1)),
        (["serve", "gateway", "--host=::1"], ("gateway", "::1", None)),
    ],
)
def test_the_plain_serve_shapes(args: list[str], expected: tuple[object, ...]) -> None:
    assert plain_serve(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["serve"],
        ["serve", "--help"],
        ["serve", "content", "--help"],
        ["serve", "content", "--port"],
        ["serve", "content", "--port", "x"],
        ["serve", "content", "--port", "1", "--port", "2"],
        ["serve", "content", "extra"],
        ["migrate", "content"],
    ],
)
def test_everything_else_is_typers(args: list[str]) -> None:
    assert plain_serve(args) is None


def test_serving_imports_neither_typer_nor_click() -> None:
    """The modules a `serve` keeps resident: not the command-line framework's."""
    probe = (
        "import sys\n"
        "from cli import main\n"
        "main.plain_serve(['serve', 'content'])\n"
        "from cli import components\n"
        "components.get('content').load()\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'typer', 'click', 'alembic'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "[]"
