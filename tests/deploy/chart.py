"""Renders the Helm chart with the real helm that scripts/chart.sh builds (cached)."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy/helm/consilium"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
KUBE_VERSION = "1.33.0"
COMPONENTS = ("gateway", "identity", "anonymity", "content", "audit")
SERVICES = COMPONENTS[1:]

Obj = dict[str, Any]


@cache
def helm() -> str:
    """Path of helm, built once into ~/.cache/consilium by scripts/chart.sh."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts/chart.sh"), "--helm-only"],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    return done.stdout.strip().splitlines()[-1]


def template(*args: str, release: str = "consilium") -> subprocess.CompletedProcess[str]:
    """`helm template` of the chart with extra arguments (values files, --set ...)."""
    return subprocess.run(
        [helm(), "template", release, str(CHART), "--namespace", "consilium",
         "--kube-version", KUBE_VERSION, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )  # fmt: skip


def render(*args: str) -> list[Obj]:
    """Every rendered object; fails the test with helm's message when rendering fails."""
    done = template(*args)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@cache
def render_values(values: Path) -> tuple[Obj, ...]:
    return tuple(render("-f", str(values)))


def of_kind(objects: list[Obj] | tuple[Obj, ...], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[Obj] | tuple[Obj, ...], kind: str, suffix: str) -> Obj:
    """The one `kind` named `consilium-<suffix>` (release and chart are both `consilium`)."""
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == f"consilium-{suffix}"]
    assert len(found) == 1, f"{kind} consilium-{suffix}: {len(found)} found"
    return found[0]


def component_of(obj: Obj) -> str:
    return str(obj["metadata"]["labels"]["app.kubernetes.io/component"])


def pod_specs(objects: list[Obj] | tuple[Obj, ...]) -> list[tuple[str, Obj]]:
    """(name, pod spec) of every Deployment and Job."""
    return [
        (f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"]["spec"])
        for o in objects
        if o["kind"] in ("Deployment", "Job")
    ]
