"""`consilium`'s commands (Typer): serve a component, migrate, seed, run the dev system."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from cli import audit, components, persisted, privacy, topics

app = typer.Typer(help="Consilium: run and operate the services.", no_args_is_help=True)
app.add_typer(topics.app, name="topics")
app.add_typer(privacy.app, name="privacy")
app.add_typer(audit.app, name="audit")
app.add_typer(persisted.app, name="persisted")

ComponentArg = Annotated[
    str, typer.Argument(help=f"one of: {', '.join(components.COMPONENTS)}", show_default=False)
]


@app.command()
def serve(
    component: ComponentArg,
    port: Annotated[int | None, typer.Option(help="gRPC port (default per DESIGN.md)")] = None,
    host: Annotated[str | None, typer.Option(help="address to bind (default 127.0.0.1)")] = None,
) -> None:
    """Run one component's gRPC server until SIGTERM or Ctrl-C."""
    target = components.get(component).load()
    asyncio.run(target.serve(host=host, port=port))


@app.command()
def migrate(
    component: Annotated[
        str | None, typer.Argument(help="one component; all when omitted", show_default=False)
    ] = None,
) -> None:
    """Apply database migrations (SQLite under the data dir, or each component's DATABASE_URL)."""
    names = [component] if component else list(components.STATEFUL)
    for name in names:
        asyncio.run(components.get(name).load_stateful().migrate())
        typer.echo(f"{name}: migrated")


@app.command()
def seed() -> None:
    """Seed the dev demo data (skipped for a component that already has data)."""
    for name, component in components.STATEFUL.items():
        target = component.load_stateful()
        asyncio.run(target.migrate())
        created = asyncio.run(target.seed_demo())
        typer.echo(
            f"{name}: {created} demo records created" if created else f"{name}: seeded already"
        )


@app.command("grant-role")
def grant_role(
    email: Annotated[str, typer.Argument(help="the account's email")],
    role: Annotated[str, typer.Argument(help="MODERATOR, AUDITOR or ADMIN")],
) -> None:
    """Give an existing account a role through direct database access (e.g. the first admin)."""
    from plumbing.errors import DomainError
    from services.identity import app as identity

    wanted = role.upper()
    if wanted not in ("MODERATOR", "AUDITOR", "ADMIN"):
        raise typer.BadParameter("role must be MODERATOR, AUDITOR or ADMIN", param_hint="ROLE")
    try:
        user_id = asyncio.run(identity.grant_role(email, wanted))
    except DomainError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{wanted} granted to {user_id}; it takes effect at their next sign-in")


@app.command()
def dev(
    verbose: Annotated[
        bool, typer.Option("--verbose", help="the components' logs here, not in <data dir>/logs")
    ] = False,
) -> None:
    """Migrate, seed, and start every component with embedded defaults; Ctrl-C stops all."""
    from cli.dev import run_dev

    raise typer.Exit(run_dev(verbose=verbose))
