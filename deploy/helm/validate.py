"""Validates rendered manifests offline against the Kubernetes schemas of one version, strictly."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

#: Custom resources the Kubernetes schemas cannot know; tests/deploy checks their shape instead.
CUSTOM_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}


def load(path: Path) -> list[dict[str, Any]]:
    """Every object of a multi-document YAML file (empty documents dropped)."""
    with path.open() as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc]


def validate(path: Path, version: str) -> tuple[int, list[str]]:
    """(objects checked, problems) for one rendered file."""
    problems: list[str] = []
    objects = load(path)
    for obj in objects:
        what = f"{path.name}: {obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            if (obj.get("apiVersion"), obj.get("kind")) not in CUSTOM_KINDS:
                problems.append(f"{what}: no schema for {obj.get('apiVersion')} in {version}")
        except kubernetes_validate.ValidationError as exc:
            location = "/".join(str(p) for p in exc.path)
            problems.append(f"{what}: {location}: {exc.message}")
    return len(objects), problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kube-version", required=True)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    failed = False
    for path in args.files:
        count, problems = validate(path, args.kube_version)
        for problem in problems:
            print(f"INVALID {problem}", file=sys.stderr)
        failed = failed or bool(problems) or count == 0
        kube = args.kube_version
        print(f"{path.name}: {count} objects, {len(problems)} invalid (Kubernetes {kube})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
