"""Metrics in the chart: each component's endpoint on the port the settings read, reachable by
the scrapers alone, ServiceMonitors, and alert rules over the series the code exports."""

from __future__ import annotations

import re
from typing import Any

import pytest

from gateway.settings import GatewaySettings
from plumbing.metrics import instruments
from services.anonymity.settings import AnonymitySettings
from services.audit.settings import AuditSettings
from services.content.settings import ContentSettings
from services.identity.settings import IdentitySettings
from tests.deploy.chart import (
    CHART,
    COMPONENTS,
    Obj,
    named,
    of_kind,
    render,
    template,
)

PRODUCTION = CHART / "ci/production-values.yaml"
MINIMAL = CHART / "ci/minimal-values.yaml"
SETTINGS: dict[str, Any] = {
    "gateway": GatewaySettings,
    "identity": IdentitySettings,
    "anonymity": AnonymitySettings,
    "content": ContentSettings,
    "audit": AuditSettings,
}
SCRAPERS = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]


def _port_of(container: Obj, name: str) -> int:
    (port,) = [p["containerPort"] for p in container["ports"] if p["name"] == name]
    return int(port)


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_component_serves_metrics_on_the_port_its_settings_read(
    component: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = render("-f", str(PRODUCTION), "--set", "metrics.port=9555")
    config = named(objects, "ConfigMap", component)["data"]
    (container,) = named(objects, "Deployment", component)["spec"]["template"]["spec"]["containers"]
    service_ports = {p["name"]: p for p in named(objects, "Service", component)["spec"]["ports"]}
    assert _port_of(container, "metrics") == 9555
    assert service_ports["metrics"]["port"] == 9555
    assert service_ports["metrics"]["targetPort"] == "metrics"
    for name, value in config.items():
        monkeypatch.setenv(name, value)
    assert SETTINGS[component]().metrics_port == 9555
    # Never the public port: the gateway's HTTP port stays what it was.
    assert _port_of(container, "http" if component == "gateway" else "grpc") != 9555


def test_without_metrics_nothing_listens_or_is_scraped() -> None:
    objects = render("-f", str(MINIMAL))
    for config in of_kind(objects, "ConfigMap"):
        assert not any(k.endswith("_METRICS_PORT") for k in config.get("data") or {})
    assert not of_kind(objects, "ServiceMonitor")
    assert not of_kind(objects, "PrometheusRule")


def test_only_the_scrapers_reach_the_metrics_port_and_only_that_port() -> None:
    objects = render("-f", str(PRODUCTION))
    for policy in of_kind(objects, "NetworkPolicy"):
        if policy["metadata"]["name"] not in {f"consilium-{c}" for c in COMPONENTS}:
            assert "9464" not in str(policy), policy["metadata"]["name"]  # Jobs serve none
            continue
        rules = policy["spec"].get("ingress") or []
        to_metrics = [r for r in rules if {"protocol": "TCP", "port": 9464} in r.get("ports", [])]
        assert len(to_metrics) == 1, policy["metadata"]["name"]
        (rule,) = to_metrics
        assert rule["from"] == SCRAPERS
        assert rule["ports"] == [{"protocol": "TCP", "port": 9464}]
        for other in rules:
            if other is not rule:
                assert other.get("from") != SCRAPERS


def _rules(objects: list[Obj]) -> dict[str, Obj]:
    (rule,) = of_kind(objects, "PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    return {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]}


def _exported() -> dict[str, set[str]]:
    """Every series name this code exports (counters with `_total`), with its labels."""
    found: dict[str, set[str]] = {}
    for value in vars(instruments).values():
        if hasattr(value, "_labelnames") and hasattr(value, "_type"):
            suffix = "_total" if value._type == "counter" else ""
            found[value._name + suffix] = set(value._labelnames)
    return found


def test_the_alerts_watch_series_the_code_exports_by_labels_they_carry() -> None:
    rules = _rules(render("-f", str(PRODUCTION)))
    assert set(rules) == {
        "ConsiliumOutboxBacklog",
        "ConsiliumOutboxGrowing",
        "ConsiliumConsumerLag",
        "ConsiliumDeadLetter",
    }
    exported = _exported()
    assert "consilium_dead_letters_total" in exported
    for name, rule in rules.items():
        expr = rule["expr"]
        assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"), name
        series = set(re.findall(r"\b(consilium_[a-z_]+)\{", expr))
        assert series and series <= set(exported), (name, series)
        for grouping in re.findall(r"by \(([^)]*)\)", expr):
            labels = {label.strip() for label in grouping.split(",")}
            for metric in series:
                assert labels <= exported[metric] | {"namespace"}, (name, labels)
        assert 'namespace="consilium"' in expr and "job=~" in expr, name
        assert rule["labels"]["severity"] == "warning"
        assert rule["annotations"]["summary"], name


def test_alert_thresholds_and_windows_come_from_values() -> None:
    rules = _rules(
        render(
            "-f", str(PRODUCTION),
            "--set", "metrics.prometheusRule.outbox.threshold=42",
            "--set", "metrics.prometheusRule.outbox.for=3m",
            "--set", "metrics.prometheusRule.consumerLag.threshold=77",
            "--set", "metrics.prometheusRule.deadLetters.window=1h",
            "--set", "metrics.prometheusRule.severity=critical",
        )
    )  # fmt: skip
    assert rules["ConsiliumOutboxBacklog"]["expr"].endswith("> 42")
    assert rules["ConsiliumOutboxBacklog"]["for"] == "3m"
    assert "[3m]" in rules["ConsiliumOutboxGrowing"]["expr"]
    assert rules["ConsiliumConsumerLag"]["expr"].endswith("> 77")
    assert "[1h]" in rules["ConsiliumDeadLetter"]["expr"]
    # Any dead letter alerts at once: no `for`, a threshold of zero.
    assert "for" not in rules["ConsiliumDeadLetter"]
    assert rules["ConsiliumDeadLetter"]["expr"].endswith("> 0")
    assert {r["labels"]["severity"] for r in rules.values()} == {"critical"}


@pytest.mark.parametrize(
    "setting",
    [
        "metrics.prometheusRule.bogus=1",
        "metrics.prometheusRule.outbox.threshold=-1",
        "metrics.prometheusRule.outbox.for=ten minutes",
        "metrics.prometheusRule.severity=loud",
        "metrics.prometheusRule.deadLetters.extra=1",
    ],
)
def test_the_schema_rejects_unknown_or_wrong_alert_values(setting: str) -> None:
    done = template("-f", str(PRODUCTION), "--set", setting)
    assert done.returncode != 0
    assert "schema" in done.stderr.lower(), done.stderr
