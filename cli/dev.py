"""`consilium dev`: every component as its own process on embedded defaults, stopped together.

It prints one line per step and a progress bar while the demo data is seeded; the
components' own logs go to `<data dir>/logs/<component>.log` (`--verbose` interleaves them
on the terminal instead). A component that fails shows the end of its log.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cli import components
from cli.dev_processes import (
    Component,
    StartFailed,
    port_of,
    start,
    stop,
    wait_grpc_serving,
    wait_http_ready,
)
from cli.progress import ProgressBar, note, step

DEMO_PASSWORD_NOTE = "password consilium-demo (dev seed only)"


def _prepare(data_dir: str) -> None:
    from cli.topics import create_topics
    from plumbing.auth.servicekeys import prepare_dev_service_keys

    made = prepare_dev_service_keys(Path(data_dir))
    step(f"service keys in {Path(data_dir, 'keys')}: {len(made)} generated")

    bootstrap = os.environ.get("CONSILIUM_KAFKA_BOOTSTRAP")
    new_topics, _ = asyncio.run(create_topics(bootstrap, Path(data_dir)))
    where = f"Kafka at {bootstrap}" if bootstrap else "the embedded bus"
    step(f"event topics on {where}: {len(new_topics)} created")
    for name, component in components.STATEFUL.items():
        target = component.load_stateful()
        step(f"migrate {name}", end="")
        asyncio.run(target.migrate())
        created = asyncio.run(target.seed_demo())
        print(f": done{f', {created} demo records created' if created else ''}", flush=True)


def _start_all(data_dir: str, verbose: bool, running: dict[str, Component]) -> None:
    for name, component in components.COMPONENTS.items():
        began = time.monotonic()
        # Without --verbose nothing else writes to the terminal: the step ends on this line.
        step(f"start {name} on 127.0.0.1:{port_of(name)}", end="\n" if verbose else " ...")
        running[name] = started = start(name, data_dir, verbose=verbose)
        if component.grpc_service is not None:
            address = f"127.0.0.1:{port_of(name)}"
            asyncio.run(wait_grpc_serving(address, component.grpc_service, started.process, name))
        else:
            wait_http_ready(started, f"http://127.0.0.1:{port_of(name)}/readyz")
        took = f"ready in {time.monotonic() - began:.1f}s"
        if verbose:
            note(f"{name} {took}")
        else:
            print(f" {took}", flush=True)


def _seed(verbose: bool) -> None:
    from cli.demo import seed_demo_content

    step("demo posts, comments, reactions and votes (first start only)")

    def begin(total: int) -> Callable[[int], None]:
        # Verbose output interleaves component lines: a redrawn bar would be torn apart.
        return ProgressBar("seeding", total, tty=sys.stdout.isatty() and not verbose).update

    created = seed_demo_content(f"http://127.0.0.1:{port_of('gateway')}/graphql", begin)
    note(f"{created} demo posts created" if created else "already there")


def _failed(component: Component | None, message: str) -> None:
    print(f"!! {message}", file=sys.stderr, flush=True)
    if component is None:
        return
    lines = component.tail()
    if lines:
        print(f"!! the end of {component.log}:", file=sys.stderr)
        for line in lines:
            print(f"   | {line}", file=sys.stderr)
        sys.stderr.flush()


def run_dev(verbose: bool = False) -> int:
    """Runs the dev system in the foreground; returns the exit code."""
    data_dir = os.environ.get("CONSILIUM_DATA_DIR", ".consilium")
    logs = Path(os.path.abspath(data_dir), "logs")
    where = "interleaved below" if verbose else f"logs in {logs}"
    step(f"Consilium dev system (data in {os.path.abspath(data_dir)}; {where})")
    _prepare(data_dir)
    running: dict[str, Component] = {}
    stop_requested = False

    def _request_stop(_signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)
    try:
        _start_all(data_dir, verbose, running)
        _seed(verbose)
        _print_ready(None if verbose else logs)
        while not stop_requested:
            for name, component in running.items():
                if component.process.poll() is not None:
                    code = component.process.returncode
                    _failed(component, f"{name} exited with code {code}; stopping")
                    return 1
            time.sleep(0.5)
        step("stopping")
        return 0
    except StartFailed as exc:
        if not verbose:
            print(" failed", flush=True)
        _failed(running.get(exc.name), str(exc))
        return 1
    except RuntimeError as exc:
        _failed(None, str(exc))
        return 1
    finally:
        stop(running)
        step("stopped")


def _print_ready(logs: Path | None) -> None:
    print("", flush=True)
    step("ready")
    print(f"    GraphiQL   http://127.0.0.1:{port_of('gateway')}/graphql")
    for name, component in components.STATEFUL.items():
        print(f"    {name:<10} grpc://127.0.0.1:{port_of(name)}  ({component.grpc_service})")
    if logs is not None:
        print(f"    logs       {logs}/<component>.log  (`consilium dev --verbose` shows them here)")
    print("    demo logins: admin@demo.consilium, moderator@demo.consilium,")
    print(f"                 auditor@demo.consilium; {DEMO_PASSWORD_NOTE}")
    print("    Ctrl-C stops everything.", flush=True)
