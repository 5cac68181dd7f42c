"""The privacy line as NetworkPolicies: default deny, then exactly the edges the code needs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.chart import (
    CHART,
    CI_VALUES,
    COMPONENTS,
    ROOT,
    SERVICES,
    Obj,
    component_of,
    named,
    of_kind,
    render,
    render_values,
)

#: Who calls whom over gRPC. The privacy line: content reaches neither identity nor anonymity.
INTENDED = {
    ("gateway", "identity"),
    ("gateway", "anonymity"),
    ("gateway", "content"),
    ("gateway", "audit"),
    ("anonymity", "identity"),
    ("audit", "identity"),
}

values_files = pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.stem)


def _settings_file(component: str) -> Path:
    return ROOT / ("gateway" if component == "gateway" else f"services/{component}") / "settings.py"


def edges_in_the_code() -> set[tuple[str, str]]:
    """Every `<callee>_address` setting of each component: where its gRPC clients dial."""
    edges = set()
    for component in COMPONENTS:
        for callee in re.findall(
            r"^\s+(\w+)_address: str", _settings_file(component).read_text(), re.M
        ):
            assert callee in COMPONENTS, f"{component} dials an unknown component {callee}"
            edges.add((component, callee))
    return edges


def test_the_intended_table_is_what_the_code_dials() -> None:
    assert edges_in_the_code() == INTENDED
    # and the client modules agree: one per upstream in the gateway, identity's in anonymity/audit
    gateway_clients = {
        p.stem
        for p in (ROOT / "gateway/clients").glob("*.py")
        if p.stem not in ("__init__", "base")
    }
    assert {("gateway", c) for c in gateway_clients} == {e for e in INTENDED if e[0] == "gateway"}
    service_clients = {
        (component, callee)
        for component in SERVICES
        for path in (ROOT / f"services/{component}/adapters").glob("*.py")
        for callee in re.findall(r"class (\w+?)(?:Keys)?Client\b", path.read_text())
        for callee in [callee.lower()]
    }
    assert service_clients == {e for e in INTENDED if e[0] != "gateway"}


def _labels_match(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """matchLabels only (the chart uses no expressions for pods); empty selects every pod."""
    selector = selector or {}
    assert not selector.get("matchExpressions"), "matchExpressions are not evaluated here"
    return (selector.get("matchLabels") or {}).items() <= labels.items()


def _peer_matches(peer: dict[str, Any], labels: dict[str, str]) -> bool:
    """Does a NetworkPolicy peer select a pod with `labels` in the release's own namespace?"""
    if "ipBlock" in peer:
        return False  # CIDRs name things outside the cluster (README: never the pod network)
    namespace = peer.get("namespaceSelector")
    if namespace is not None and (
        namespace.get("matchLabels") or namespace.get("matchExpressions")
    ):
        # a labelled namespace: ours only if it names ours by its well-known label
        wanted = namespace.get("matchLabels") or {}
        if wanted != {"kubernetes.io/metadata.name": "consilium"}:
            return False
    return _labels_match(peer.get("podSelector"), labels)


def _port_matches(rule: dict[str, Any], port: int) -> bool:
    ports = rule.get("ports")
    return not ports or any(
        p.get("port") in (None, port) and p.get("protocol", "TCP") == "TCP" for p in ports
    )


def _selecting(policies: list[Obj], labels: dict[str, str], kind: str) -> list[Obj]:
    return [
        p
        for p in policies
        if kind in p["spec"].get("policyTypes", [])
        and _labels_match(p["spec"].get("podSelector"), labels)
    ]


def _allows(
    policies: list[Obj],
    labels: dict[str, str],
    direction: str,
    peer_labels: dict[str, str],
    port: int,
) -> bool:
    kind = "Ingress" if direction == "ingress" else "Egress"
    selecting = _selecting(policies, labels, kind)
    assert selecting, f"no {kind} policy selects {labels}: not default deny"
    key = "from" if direction == "ingress" else "to"
    for policy in selecting:
        for rule in policy["spec"].get(direction) or []:
            peers = rule.get(key)
            if _port_matches(rule, port) and (
                peers is None or any(_peer_matches(p, peer_labels) for p in peers)
            ):
                return True
    return False


def allowed_edges(objects: tuple[Obj, ...] | list[Obj]) -> set[tuple[str, str]]:
    policies = of_kind(objects, "NetworkPolicy")
    pods = {
        component: named(objects, "Deployment", component)["spec"]["template"]["metadata"]["labels"]
        for component in COMPONENTS
    }
    ports = {
        component: named(objects, "Deployment", component)["spec"]["template"]["spec"][
            "containers"
        ][0]["ports"][0]["containerPort"]
        for component in COMPONENTS
    }
    return {
        (src, dst)
        for src in COMPONENTS
        for dst in COMPONENTS
        if src != dst
        and _allows(policies, pods[src], "egress", pods[dst], ports[dst])
        and _allows(policies, pods[dst], "ingress", pods[src], ports[dst])
    }


@values_files
def test_the_policies_allow_exactly_the_intended_edges(values: Path) -> None:
    assert allowed_edges(render_values(values)) == INTENDED


def test_the_graph_check_can_fail() -> None:
    """Without the policies every pod reaches every other: the check must see content -> identity."""
    objects = render(
        "-f", str(CHART / "ci/minimal-values.yaml"), "--set", "networkPolicy.enabled=false"
    )
    with pytest.raises(AssertionError, match="not default deny"):
        allowed_edges(objects)


@values_files
def test_default_deny_selects_every_pod_of_the_release(values: Path) -> None:
    objects = render_values(values)
    (deny,) = [
        p
        for p in of_kind(objects, "NetworkPolicy")
        if p["metadata"]["name"].endswith("-default-deny")
    ]
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    for kind in ("Deployment", "Job"):
        for workload in of_kind(objects, kind):
            assert _labels_match(
                deny["spec"]["podSelector"], workload["spec"]["template"]["metadata"]["labels"]
            )


def _egress_peers(policy: Obj) -> list[tuple[dict[str, Any], list[Any]]]:
    return [
        (peer, rule.get("ports", []))
        for rule in policy["spec"].get("egress", [])
        for peer in rule.get("to", [])
    ]


def test_each_service_reaches_only_its_own_database() -> None:
    objects = render_values(CHART / "ci/minimal-values.yaml")
    databases = {c: {"app.kubernetes.io/instance": f"postgres-{c}"} for c in SERVICES}
    for component in COMPONENTS:
        policy = named(objects, "NetworkPolicy", component)
        reached = {
            db
            for peer, _ports in _egress_peers(policy)
            for db, labels in databases.items()
            if _peer_matches(peer, labels)
        }
        assert reached == (set() if component == "gateway" else {component}), component
    migrate = named(objects, "NetworkPolicy", "migrate")
    assert {
        db
        for peer, _ in _egress_peers(migrate)
        for db, lb in databases.items()
        if _peer_matches(peer, lb)
    } == set(SERVICES)
    topics = named(objects, "NetworkPolicy", "topics")
    assert not any(
        _peer_matches(peer, lb) for peer, _ in _egress_peers(topics) for lb in databases.values()
    )


def test_every_component_reaches_kafka_dns_and_the_collector_and_nothing_else_outside() -> None:
    objects = render_values(CHART / "ci/production-values.yaml")
    for policy in of_kind(objects, "NetworkPolicy"):
        if policy["metadata"]["name"].endswith("-default-deny"):
            continue
        ports = {
            (p.get("protocol", "TCP"), p["port"]) for _peer, ps in _egress_peers(policy) for p in ps
        }
        expected = {("UDP", 53), ("TCP", 53), ("TCP", 9096), ("TCP", 4317)}
        component = component_of(policy)
        if component in SERVICES or component == "migrate":
            expected.add(("TCP", 5432))
        callees = {dst for src, dst in INTENDED if src == component}
        expected |= {("TCP", 50051 + SERVICES.index(c)) for c in callees}
        assert ports == expected, component


def test_content_cannot_reach_identity_or_anonymity_even_by_port() -> None:
    objects = render_values(CHART / "ci/minimal-values.yaml")
    content = named(objects, "NetworkPolicy", "content")
    egress_ports = {p["port"] for _peer, ps in _egress_peers(content) for p in ps}
    assert not egress_ports & {50051, 50052}


def test_the_graph_check_sees_a_forbidden_edge() -> None:
    """A policy letting content dial identity (and identity admit it) shows up as that edge."""
    objects = [dict(o) for o in render_values(CHART / "ci/minimal-values.yaml")]
    identity_pods = {"matchLabels": {"app.kubernetes.io/component": "identity"}}
    content_pods = {"matchLabels": {"app.kubernetes.io/component": "content"}}
    objects.append(
        {
            "kind": "NetworkPolicy",
            "metadata": {"name": "leak"},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "egress": [{"to": [{"podSelector": identity_pods}]}],
                "ingress": [{"from": [{"podSelector": content_pods}]}],
            },
        }
    )
    assert ("content", "identity") in allowed_edges(objects) - INTENDED
