"""The chart's wiring, run for real: rendered Jobs and Deployments become local processes (their
exact command, args and environment) against the test PostgreSQL and Kafka, and the gateway
answers GraphQL that crosses every service and the event bus."""

from __future__ import annotations

import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc
from support.ports import free_ports

from tests.deploy.chart import SERVICES, named, render
from tests.deploy.scrape import check_components
from tests.deploy.wiring import Cluster, Pod
from tests.deploy.wiring_values import chart_values

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]
PASSWORD = "correct horse battery staple 42"


def _wait_serving(port: int, service: str, pod: Pod, timeout: float = 120) -> None:
    """Like the readiness probe: grpc.health.v1 Watch until SERVING, bounded."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        replies = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout, wait_for_ready=True
        )
        try:
            for reply in replies:
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
        except grpc.RpcError as exc:
            pytest.fail(f"{pod.name} never became SERVING ({exc.code()}):\n{pod.output()}")
        finally:
            replies.cancel()


class Gateway:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.http = httpx.Client(timeout=30)

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> Any:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        reply = self.http.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    def wait_ready(self, pod: Pod, timeout: float = 120) -> None:
        """/readyz until 200 (every upstream SERVING), bounded."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.http.get(f"{self.url}/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert pod.process is not None and pod.process.poll() is None, pod.output()
            assert time.monotonic() < deadline, f"gateway never ready:\n{pod.output()}"
            time.sleep(0.2)  # bounded polling of the readiness condition


REGISTER = "mutation($i: RegisterInput!) { register(input: $i) { viewer { id } } }"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"


def _register(gateway: Gateway, npi: str) -> tuple[str, str]:
    email = f"{uuid.uuid4().hex[:10]}@example.org"
    data = gateway.graphql(
        REGISTER,
        {
            "i": {
                "email": email,
                "password": PASSWORD,
                "fullName": "Dr. Chart Test",
                "npi": npi,
                "specialty": "207RC0000X",
                "country": "US",
            }
        },
    )
    return data["register"]["viewer"]["id"], email


@pytest.mark.timeout(600)  # five processes and a ledger reading the shared backlog, on 2 cores
def test_the_rendered_chart_runs_and_answers_across_every_service(
    tmp_path: Path, database_urls: dict[str, str], kafka_bootstrap: str
) -> None:
    free = free_ports(10)
    ports = dict(zip(["gateway", *SERVICES], free[:5], strict=True))
    metrics = dict(zip(["gateway", *SERVICES], free[5:], strict=True))
    values_file = tmp_path / "values.yaml"
    values_file.write_text(
        yaml.safe_dump(chart_values(database_urls, kafka_bootstrap, ports, metrics))
    )
    objects = render("-f", str(values_file))
    for component in SERVICES:  # callers dial the Service port; it must be the container's
        service = named(objects, "Service", component)
        assert service["spec"]["ports"][0]["port"] == ports[component]
    cluster = Cluster(objects, tmp_path / "pods")

    # The hook Jobs, as Helm runs them before the pods: migrations, then topics.
    for pod in cluster.pods("Job", "migrate") + cluster.pods("Job", "topics"):
        pod.run()

    running: list[Pod] = []
    gateway = Gateway(ports["gateway"])
    try:
        for component in SERVICES:
            (pod,) = cluster.pods("Deployment", component)
            pod.start()
            running.append(pod)
            service = f"consilium.{component}.v1.{component.title()}Service"
            _wait_serving(ports[component], service, pod)
        (gateway_pod,) = cluster.pods("Deployment", "gateway")
        gateway_pod.start()
        running.append(gateway_pod)
        gateway.wait_ready(gateway_pod)
        private = _across_every_service(gateway, cluster)
        # Every process's /metrics after the flow: its series, and nothing personal.
        check_components(metrics, private)
    finally:
        gateway.http.close()
        codes = {pod.name: pod.stop() for pod in reversed(running)}
    # SIGTERM drains within the termination grace the chart gives each pod (-9: killed at the
    # end of it). Uvicorn re-raises SIGTERM once its graceful shutdown is done, hence -15.
    expected = {pod.name: 0 for pod in running} | {"gateway/gateway": -15}
    assert codes == expected, {
        p.name: p.output() for p in running if codes[p.name] != expected[p.name]
    }


def _across_every_service(gateway: Gateway, cluster: Cluster) -> list[str]:
    """The flow; returns every private string it used (ids, emails, names, NPIs)."""
    from services.identity.domain.validation import npi_check_digit

    def npi() -> str:
        stem = f"1{secrets.randbelow(10**8):08d}"
        return stem + npi_check_digit(stem)

    # The operator's first admin, through identity's own environment (like `kubectl exec`).
    staff_npi, member_npi = npi(), npi()
    staff_id, staff_email = _register(gateway, staff_npi)
    (identity_pod,) = cluster.pods("Deployment", "identity")
    for role in ("ADMIN", "MODERATOR", "AUDITOR"):
        Pod(
            f"grant-{role}",
            [*identity_pod.argv[:1], "grant-role", staff_email, role],
            identity_pod.env,
            30,
            identity_pod.log_path.with_name(f"grant-{role}.log"),
        ).run()
    staff = gateway.graphql(LOGIN, {"e": staff_email, "p": PASSWORD})["login"]["token"]

    # identity: a member registers and is verified; anonymity learns it through Kafka.
    member_id, member_email = _register(gateway, member_npi)
    gateway.graphql(
        "mutation($u: ID!) { verifyPhysician(userId: $u, approve: true) { id } }",
        {"u": member_id},
        token=staff,
    )
    member = gateway.graphql(LOGIN, {"e": member_email, "p": PASSWORD})["login"]["token"]

    # content + anonymity: an anonymous post under an alias (waits for the event to arrive).
    post_input = {
        "kind": "DISCUSSION",
        "community": "lounge-stories",
        "title": "Night shift",
        "body": "Notes.",
        "visibility": "ANONYMOUS",
    }
    deadline = time.monotonic() + 120
    while True:
        reply = gateway.http.post(
            f"{gateway.url}/graphql",
            json={
                "query": "mutation($i: CreatePostInput!) { createPost(input: $i) { id author { aliasId } } }",
                "variables": {"i": post_input},
            },
            headers={"authorization": f"Bearer {member}"},
        )
        body = reply.json()
        if not body.get("errors"):
            break
        assert time.monotonic() < deadline, body["errors"]
        time.sleep(0.2)  # bounded: anonymity applies PhysicianVerified from Kafka first
    alias_id = body["data"]["createPost"]["author"]["aliasId"]
    feed = gateway.graphql("{ feed(first: 5) { nodes { id author { aliasId } } } }", token=member)
    assert alias_id in {n["author"]["aliasId"] for n in feed["feed"]["nodes"]}

    # anonymity -> identity, audited: the reveal reaches the audit ledger through Kafka,
    # signed with a key whose public half came from the chart's trusted-keys ConfigMap.
    # The test broker is shared and topic names are fixed, so the ledger may also ingest other
    # runs' events: this reveal is found by the trace the gateway started for it, which it
    # names in the `traceresponse` header (a client's traceparent is only a link).
    reply = gateway.http.post(
        f"{gateway.url}/graphql",
        json={
            "query": "mutation($a: ID!, $p: String!) { revealAuthor(aliasId: $a, purpose: $p) { id } }",
            "variables": {"a": alias_id, "p": "chart wiring test"},
        },
        headers={"authorization": f"Bearer {staff}"},
    )
    assert reply.json()["data"]["revealAuthor"]["id"] == member_id, reply.text
    trace_id = reply.headers["traceresponse"].split("-")[1]
    # generous: a fresh ledger first reads every other run's events on the shared topic
    deadline = time.monotonic() + 120
    while True:
        events = gateway.graphql(
            "query($t: String) { auditEvents(filter: {traceId: $t}) "
            "{ nodes { producer action subjectId } } }",
            {"t": trace_id},
            token=staff,
        )["auditEvents"]["nodes"]
        if any(e["producer"] == "anonymity" for e in events):
            break
        assert time.monotonic() < deadline, f"the reveal never reached the audit ledger: {events}"
        time.sleep(0.2)  # bounded polling: ingestion is asynchronous
    (reveal,) = [e for e in events if e["producer"] == "anonymity"]
    assert (reveal["action"], reveal["subjectId"]) == ("REVEAL_ALIAS", alias_id)
    people = [staff_id, staff_email, staff_npi, member_id, member_email, member_npi]
    return [*people, alias_id, "Dr. Chart Test"]
