"""`consilium`: a plain `serve` starts its component directly; every other command goes to Typer.

`consilium serve <component>` is what every container and `consilium dev` run. Typer and Click
stay resident for the process's life once imported (about 10 MB of a service's ~110), for a
command line parsed once; so that one shape is parsed here, and anything else (help, options
this does not know, other commands) goes to `cli.commands`, which answers as before.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

_OPTIONS = ("--port", "--host")


def plain_serve(args: list[str]) -> tuple[str, str | None, int | None] | None:
    """(component, host, port) when `args` is `serve NAME [--port N] [--host H]`; else None."""
    if len(args) < 2 or args[0] != "serve" or args[1].startswith("-"):
        return None
    options: dict[str, str] = {}
    rest = iter(args[2:])
    for arg in rest:
        name, equals, value = arg.partition("=")
        if name not in _OPTIONS or name in options:
            return None
        if not equals:
            value = next(rest, "")
        if not value or value.startswith("-"):
            return None
        options[name] = value
    port = options.get("--port")
    if port is not None and not port.isdigit():
        return None
    return args[1], options.get("--host"), int(port) if port is not None else None


def main() -> None:
    serve = plain_serve(sys.argv[1:])
    if serve is None:
        from cli.commands import app

        app()
        return
    from cli import components

    component, host, port = serve
    asyncio.run(components.get(component).load().serve(host=host, port=port))


def __getattr__(name: str) -> Any:
    """`from cli.main import app` (the Typer app, for tests' CliRunner) still works."""
    if name == "app":
        from cli.commands import app

        return app
    raise AttributeError(name)


if TYPE_CHECKING:
    app: typer.Typer

if __name__ == "__main__":
    main()
