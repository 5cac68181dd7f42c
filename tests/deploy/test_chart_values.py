"""The chart as a package: every object valid Kubernetes, helm lint --strict, a closed schema
that rejects unknown keys and wrong types, every value documented, NOTES.txt."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.chart import CHART, CI_VALUES, KUBE_VERSION, helm, template

MINIMAL = CHART / "ci/minimal-values.yaml"
values_files = pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.stem)


@values_files
def test_every_object_is_valid_kubernetes(values: Path, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("validate", CHART.parent / "validate.py")
    assert spec and spec.loader
    validate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(validate)
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(template("-f", str(values)).stdout)
    count, problems = validate.validate(rendered, KUBE_VERSION)
    assert count > 30
    assert problems == []


def test_the_validator_catches_an_invalid_object(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("validate", CHART.parent / "validate.py")
    assert spec and spec.loader
    validate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(validate)
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {portz: []}\n---\n"
        "apiVersion: example.org/v1\nkind: Unknown\nmetadata: {name: y}\n"
    )
    _count, problems = validate.validate(bad, KUBE_VERSION)
    assert len(problems) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--set", "gateway.replicaCountt=2"), "replicaCountt"),
        (("--set", "kafka.sasl.username=x"), "username"),
        (("--set", "unknownTopLevel=1"), "unknownTopLevel"),
        (("--set-string", "identity.port=fifty"), "identity"),
        (("--set", "gateway.autoscaling.enabled=yes-please"), "autoscaling"),
        (("--set", "environment=staging"), "environment"),
        (("--set", "image.digest=latest"), "digest"),
    ],
    ids=["unknown-key", "unknown-nested-key", "unknown-top-key", "wrong-type", "wrong-bool",
         "wrong-enum", "wrong-pattern"],
)  # fmt: skip
def test_the_schema_rejects_unknown_keys_and_wrong_types(
    args: tuple[str, ...], message: str
) -> None:
    done = template("-f", str(MINIMAL), *args)
    assert done.returncode != 0
    assert "values don't meet the specifications of the schema" in done.stderr
    assert message in done.stderr


def _schema_objects(schema: Any, path: str = "$") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            found.append((path, schema))
        for key, value in schema.items():
            found += _schema_objects(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            found += _schema_objects(value, f"{path}[{i}]")
    return found


def test_every_schema_object_closes_its_properties() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    for path, obj in _schema_objects(schema):
        if "properties" in obj:
            assert obj.get("additionalProperties") is False, path
        else:  # maps (labels, env, secretEnv) or Kubernetes pass-through objects
            passthrough = re.search(r"\.affinity\.properties\.\w+$", path)
            assert "additionalProperties" in obj or passthrough, path


def test_every_value_is_documented() -> None:
    """Each leaf of values.yaml has a `# --` comment on itself or on an enclosing key."""
    documented: list[tuple[int, bool]] = []  # (indent, documented) of the enclosing keys
    comments: list[str] = []
    for number, line in enumerate((CHART / "values.yaml").read_text().splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("#"):
            comments.append(stripped)
            continue
        if not stripped or stripped.startswith("- "):
            continue
        indent = len(line) - len(stripped)
        while documented and documented[-1][0] >= indent:
            documented.pop()
        own = any(c.startswith("# --") for c in comments)
        comments = []
        inherited = any(d for _, d in documented)
        if stripped.endswith(":"):
            documented.append((indent, own or inherited))
        else:
            assert own or inherited, f"values.yaml:{number}: {stripped}"


@values_files
def test_helm_lint_strict_passes(values: Path) -> None:
    done = subprocess.run(
        [helm(), "lint", "--strict", str(CHART), "-f", str(values), "--kube-version", KUBE_VERSION],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _notes(tmp_path: Path, *args: str) -> str:
    """NOTES.txt as `helm install` would print it. helm template skips NOTES and parses every
    output as YAML, so a copy of the chart renders it as a string inside a YAML document."""
    chart = tmp_path / "consilium"
    shutil.copytree(CHART, chart)
    notes = chart / "templates/NOTES.txt"
    body = notes.read_text()
    notes.unlink()
    (chart / "templates/_notes_test.tpl").write_text(
        '{{- define "test.notes" -}}\n' + body + "{{- end -}}\n"
    )
    (chart / "templates/notes.yaml").write_text('notes: {{ include "test.notes" . | quote }}\n')
    done = subprocess.run(
        [helm(), "template", "consilium", str(chart), "-n", "consilium", "--kube-version",
         KUBE_VERSION, "--show-only", "templates/notes.yaml", "-f", str(MINIMAL), *args],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return str(yaml.safe_load(done.stdout)["notes"])


def test_the_notes_tell_where_the_api_is_and_warn_without_the_policies(tmp_path: Path) -> None:
    notes = _notes(tmp_path)
    assert "http://consilium-gateway.consilium.svc:80/graphql" in notes
    assert "Content reaches neither identity nor anonymity" in notes
    unprotected = _notes(tmp_path / "off", "--set", "networkPolicy.enabled=false")
    assert "WARNING: networkPolicy.enabled=false" in unprotected
