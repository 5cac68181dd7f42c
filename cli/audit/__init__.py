"""`consilium audit ...`: the auditor's tools; an auditor's token is all they need of ours."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import grpc
import typer

from cli.audit.export import export_lines
from cli.audit.findings import LEDGER_PRODUCER
from cli.audit.heads import (
    HEAD_SOURCES,
    await_heads,
    fetch_heads,
    parse_addresses,
    producers_to_ask,
    topic_heads,
)
from cli.audit.ledger import DEFAULT_ADDRESS, connect
from cli.audit.state import AuditorState
from cli.audit.trace import event_line, services_crossed, spans_of
from cli.audit.verify import Heads, Outcome, Trust, read_topic, verify_ledger, verify_topic
from consilium.audit.v1 import audit_pb2 as pb
from plumbing.auditkeys import AuditKeyError, rotate_dev_key
from plumbing.events.factory import create_bus
from plumbing.tlog import NoteError, NoteVerifier
from services.audit.domain.producers import ProducerConfigError, ProducerPins, parse_producers

T = TypeVar("T")
app = typer.Typer(help="Audit the ledger: verify it, trace a request, export it for others.")

Token = Annotated[
    str,
    typer.Option(envvar="CONSILIUM_TOKEN", help="an auditor's access token (from GraphQL login)"),
]
Address = Annotated[
    str, typer.Option("--audit-address", envvar="CONSILIUM_AUDIT_ADDRESS", help="the ledger")
]
ProducersFile = Annotated[
    Path | None,
    typer.Option(
        "--producers",
        envvar="CONSILIUM_AUDIT_PRODUCERS_FILE",
        help='pinned producers: JSON {"<producer>": ["<PEM or key id>", ...]}',
    ),
]
TrustedKeys = Annotated[
    Path | None,
    typer.Option(help="PEM public keys named <key id>.pem (default <data dir>/audit/trusted-keys)"),
]
LedgerKey = Annotated[
    str,
    typer.Option(
        envvar="CONSILIUM_AUDIT_LEDGER_KEY",
        help="the ledger's checkpoint verifier key (name+hash+key) you pinned",
    ),
]


def _data_dir() -> Path:
    return Path(os.environ.get("CONSILIUM_DATA_DIR", ".consilium"))


@dataclass(frozen=True, slots=True)
class Options:
    """What every audit command reads; built from flags, or directly by tests."""

    token: str
    address: str = DEFAULT_ADDRESS
    producers: Path | None = None
    trusted_keys: Path | None = None
    ledger_key: str = ""
    data_dir: Path = Path(".consilium")
    #: Where the producers' signed heads come from: "producers", "topic" or "none".
    heads: str = "none"
    #: `NAME=HOST:PORT` of producers not at their default address.
    producer_addresses: tuple[str, ...] = ()
    #: Seconds the ledger gets to ingest what a head names before a shortfall is a finding.
    head_wait: float = 10.0

    def trust(self) -> Trust:
        pins = ProducerPins()
        if self.producers is not None:
            pins = parse_producers(self.producers.read_text(), origin=str(self.producers))
        elif os.environ.get("CONSILIUM_AUDIT_PRODUCERS"):
            pins = parse_producers(os.environ["CONSILIUM_AUDIT_PRODUCERS"])
        dev_vkey = self.data_dir / "audit" / "checkpoint-key.vkey"
        dev_key = dev_vkey.read_text().strip() if dev_vkey.exists() else ""
        keys_dir = self.trusted_keys or self.data_dir / "audit" / "trusted-keys"
        return Trust.of(pins, keys_dir, self.ledger_key, dev_key)


def _run(work: Coroutine[Any, Any, T], address: str) -> T:
    """Runs a command's work; a refused or unreachable ledger is one line and exit 2."""
    try:
        return asyncio.run(work)
    except grpc.aio.AioRpcError as error:
        typer.echo(
            f"error: the ledger at {address}: {error.code().name}: {error.details()}", err=True
        )
        raise typer.Exit(2) from None
    except (ProducerConfigError, NoteError, OSError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


def _report(outcome: Outcome, echo: bool = True) -> int:
    if echo:
        for note in outcome.notes:
            typer.echo(note)
        for finding in outcome.findings:
            typer.echo(finding.line())
    if outcome.findings:
        if echo:
            typer.echo(f"audit verify: {len(outcome.findings)} problem(s)")
        return 1
    if echo:
        typer.echo("audit verify: ok")
    return 0


async def run_verify(
    options: Options,
    *,
    state_file: Path | None = None,
    from_topic: bool = False,
    kafka_bootstrap: str | None = None,
    only: Sequence[str] = (),
) -> Outcome:
    trust = options.trust()
    state = AuditorState.load(state_file)
    heads: Heads | None = None
    if options.heads == "producers":
        names = producers_to_ask(trust.pins, [a.split("=")[0] for a in options.producer_addresses])
        addresses = parse_addresses(options.producer_addresses)
        fetched, failures = await fetch_heads(names, addresses, options.token)
        heads = Heads(fetched, "producer", failures, names)
    topic: tuple[list[pb.AuditEvent], list[pb.SignedHead], int] | None = None
    if from_topic or options.heads == "topic":
        topic = await _read_topic(options, kafka_bootstrap)
    if options.heads == "topic" and topic is not None:
        heads = Heads(topic_heads(topic[1]), "topic", [], trust.pins.producers)
    if from_topic and topic is not None:
        events, _, bad = topic
        if only:
            events = [e for e in events if e.producer in only]
        outcome = verify_topic(events, trust, state, heads)
        if only:
            outcome.findings = [f for f in outcome.findings if f.producer in only]
        if bad:
            outcome.notes.append(f"{bad} records on the topic are not audit events")
        return outcome
    async with connect(options.address, options.token) as client:
        if heads is not None:
            await await_heads(client, heads.heads, options.head_wait)
        outcome = await verify_ledger(client, trust, state, only=only, heads=heads)
    if only:
        outcome.findings = [f for f in outcome.findings if f.producer in only]
    if state_file is not None and not outcome.findings:
        AuditorState(outcome.ledger_key, {**state.checkpoints, **outcome.checkpoints}).save(
            state_file
        )
    return outcome


async def _read_topic(
    options: Options, kafka_bootstrap: str | None
) -> tuple[list[pb.AuditEvent], list[pb.SignedHead], int]:
    bus = create_bus(
        kafka_bootstrap=kafka_bootstrap, data_dir=options.data_dir, client_id="audit-verify"
    )
    await bus.start()
    try:
        return await read_topic(bus)
    finally:
        await bus.close()


@app.command()
def verify(
    token: Token = "",
    audit_address: Address = DEFAULT_ADDRESS,
    producers: ProducersFile = None,
    trusted_keys: TrustedKeys = None,
    ledger_key: LedgerKey = "",
    state: Annotated[
        Path | None,
        typer.Option(help="keep the last checkpoints here; next run demands they still hold"),
    ] = None,
    from_topic: Annotated[
        bool, typer.Option("--from-topic", help="read the audit topic instead of the ledger")
    ] = False,
    kafka_bootstrap: Annotated[
        str | None, typer.Option(envvar="CONSILIUM_KAFKA_BOOTSTRAP", help="embedded if unset")
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="verify just this producer (repeatable)")
    ] = None,
    heads: Annotated[
        str,
        typer.Option(
            help="where producers' signed chain heads come from: producers (gRPC), topic, none"
        ),
    ] = "producers",
    producer_address: Annotated[
        list[str] | None,
        typer.Option(
            "--producer-address",
            help="NAME=HOST:PORT of a producer's GetAuditHead (default identity=127.0.0.1:50051, "
            "anonymity=127.0.0.1:50052, audit=127.0.0.1:50054; repeatable)",
        ),
    ] = None,
    head_wait: Annotated[
        float, typer.Option(help="seconds the ledger gets to catch up with a producer's head")
    ] = 10.0,
) -> None:
    """Verify every producer's chain, keys, checkpoints and history, and hold each chain to its
    producer's signed head; exit 1 naming each fault."""
    if heads not in HEAD_SOURCES:
        typer.echo(f"error: --heads must be one of {', '.join(HEAD_SOURCES)}", err=True)
        raise typer.Exit(2)
    options = Options(
        token,
        audit_address,
        producers,
        trusted_keys,
        ledger_key,
        _data_dir(),
        heads=heads,
        producer_addresses=tuple(producer_address or ()),
        head_wait=head_wait,
    )
    outcome = _run(
        run_verify(
            options,
            state_file=state,
            from_topic=from_topic,
            kafka_bootstrap=kafka_bootstrap,
            only=only or (),
        ),
        audit_address,
    )
    raise typer.Exit(_report(outcome))


async def run_trace(options: Options, trace_id: str, otlp: Path | None) -> list[str]:
    trace_id = trace_id.strip().lower()
    async with connect(options.address, options.token) as client:
        events = await client.by_trace(trace_id)
    events.sort(key=lambda e: (e.occurred_at.ToNanoseconds(), e.producer, e.sequence))
    lines = [f"trace {trace_id}: {len(events)} audit event(s)"]
    lines += [event_line(e) for e in events]
    if otlp is not None:
        spans = spans_of(otlp, trace_id)
        order, edges = services_crossed(spans)
        lines.append(f"services crossed: {' -> '.join(order) if order else '(no spans)'}")
        lines += [f"  {a} -> {b}" for a, b in edges]
        lines += [f"  span {s.span_id} {s.service}: {s.name}" for s in spans]
    return lines


@app.command()
def trace(
    trace_id: Annotated[str, typer.Argument(help="the W3C trace id (32 hex digits)")],
    token: Token = "",
    audit_address: Address = DEFAULT_ADDRESS,
    otlp: Annotated[
        Path | None, typer.Option(help="an OTLP JSON export: show the services crossed")
    ] = None,
) -> None:
    """The audit events of one request, in order (and its spans' services with --otlp)."""
    options = Options(token, audit_address, data_dir=_data_dir())
    for line in _run(run_trace(options, trace_id, otlp), audit_address):
        typer.echo(line)


async def run_export(options: Options, out: Path) -> Outcome:
    trust = options.trust()
    async with connect(options.address, options.token) as client:
        report = await client.verify_chain()
        names = sorted(
            {r.producer for r in report.reports} | set(trust.pins.producers) | {LEDGER_PRODUCER}
        )
        vkey = trust.vkey(AuditorState())
        verifier = NoteVerifier.from_vkey(vkey) if vkey else None
        lines, refused = await export_lines(client, names, verifier)
    await asyncio.to_thread(out.write_text, "".join(line + "\n" for line in lines))
    return Outcome(findings=refused, notes=[f"{len(lines)} lines written to {out}"])


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="the JSON-lines file to write")],
    token: Token = "",
    audit_address: Address = DEFAULT_ADDRESS,
    producers: ProducersFile = None,
    ledger_key: LedgerKey = "",
) -> None:
    """Every logged event with its inclusion proof and checkpoint, for
    tools/verify_audit_export.py."""
    options = Options(token, audit_address, producers, None, ledger_key, _data_dir())
    raise typer.Exit(_report(_run(run_export(options, out), audit_address)))


@app.command("rotate-key")
def rotate_key(
    service: Annotated[str, typer.Option(help="the producer whose audit key to rotate")],
) -> None:
    """Dev: retire a producer's dev audit key and make a new one; the producer writes the
    KEY_ROTATED event (signed with the old key) at its next start. In production, set the new
    key as CONSILIUM_<SERVICE>_AUDIT_SIGNING_KEY(_FILE), the old one as
    CONSILIUM_<SERVICE>_AUDIT_PREVIOUS_SIGNING_KEY(_FILE), and restart every replica."""
    if service not in ("identity", "anonymity", "audit"):
        typer.echo("error: --service is identity, anonymity or audit", err=True)
        raise typer.Exit(2)
    if os.environ.get("CONSILIUM_ENV", "dev") != "dev":
        typer.echo(
            f"error: in production rotate by configuration: the new key in CONSILIUM_"
            f"{service.upper()}_AUDIT_SIGNING_KEY, the old one in CONSILIUM_{service.upper()}"
            "_AUDIT_PREVIOUS_SIGNING_KEY, then restart every replica",
            err=True,
        )
        raise typer.Exit(2)
    try:
        old, new = rotate_dev_key(service, _data_dir())
    except AuditKeyError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"{service}: dev audit key {old} retired, {new} made; restart {service}: it writes a "
        "KEY_ROTATED event signed with the old key before serving"
    )
