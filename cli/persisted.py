"""`consilium persisted build`: a trusted-documents manifest from `.graphql` files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Persisted operations: the manifest the gateway's trusted documents are.")


@app.command()
def build(
    sources: Annotated[
        list[Path], typer.Argument(help="`.graphql` files, or directories searched for them")
    ],
    out: Annotated[Path, typer.Option("--out", help="where to write the manifest (JSON)")],
    fmt: Annotated[
        str, typer.Option("--format", help="apollo (persisted-query manifest) or map ({id: doc})")
    ] = "apollo",
) -> None:
    """One entry per named operation (with the fragments it spreads), each validated against
    the gateway's schema; the id is the sha256 of the entry's body. Same files, same bytes."""
    from gateway.persisted.build import (
        BuildError,
        build_operations,
        dumps,
        graphql_files,
        manifest,
    )
    from gateway.schema.build import build_schema
    from gateway.settings import GatewaySettings

    if fmt not in ("apollo", "map"):
        raise typer.BadParameter("choose apollo or map", param_hint="--format")
    try:
        files = graphql_files(sources)
        schema = build_schema(GatewaySettings())._schema
        operations = build_operations(files, schema)
    except BuildError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    out.write_text(dumps(manifest(operations, "map" if fmt == "map" else "apollo")), "utf-8")
    typer.echo(f"{len(operations)} operations from {len(files)} files written to {out}")
