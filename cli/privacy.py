"""`consilium privacy migrate`: purge personal data that older versions left on retained events."""

from __future__ import annotations

import asyncio

import typer

app = typer.Typer(help="Privacy migrations of retained data (see the README's privacy section).")


@app.command("migrate")
def migrate(
    delete_consumed: bool = typer.Option(
        False,
        "--delete-consumed",
        help="on Kafka: delete identity.physicians.v1 records anonymity has processed",
    ),
) -> None:
    """Remove names from PhysicianRegistered events still retained (safe to run again).

    Identity's outbox and the embedded bus are rewritten in place. Kafka cannot rewrite a
    record: its topic retention (30 days) ages old events out, or `--delete-consumed`
    deletes every record the `anonymity` consumer group has already committed past.
    """
    from services.identity.privacy import migrate_privacy
    from services.identity.settings import IdentitySettings

    settings = IdentitySettings()
    report = asyncio.run(migrate_privacy(settings, delete_consumed_on_kafka=delete_consumed))
    typer.echo(
        f"identity outbox: {report.outbox}, embedded bus: {report.embedded_bus}; "
        f"{report.rewritten} events rewritten"
    )
    if settings.kafka_bootstrap:
        if report.kafka_deleted is None:
            typer.echo(
                "Kafka: records cannot be rewritten; identity.physicians.v1 retention (30 days) "
                "ages old names out, or run again with --delete-consumed"
            )
        else:
            typer.echo(f"Kafka: {report.kafka_deleted} partitions trimmed to anonymity's offsets")
