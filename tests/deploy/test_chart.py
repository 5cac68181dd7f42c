"""The Helm chart rendered by a real helm over every CI values file: restricted pods, probes and
resources, secrets kept out of ConfigMaps, hooks after what they read, HPA, PDB, ServiceMonitor."""

from __future__ import annotations

import base64
import re
from pathlib import Path

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
    pod_specs,
    render,
    render_values,
    template,
)

MINIMAL = CHART / "ci/minimal-values.yaml"
PRODUCTION = CHART / "ci/production-values.yaml"
values_files = pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.stem)


@values_files
def test_every_component_is_deployed_with_a_service_account_without_token(values: Path) -> None:
    objects = render_values(values)
    for component in COMPONENTS:
        named(objects, "Deployment", component)
        named(objects, "Service", component)
        assert named(objects, "ServiceAccount", component)["automountServiceAccountToken"] is False
    for name, pod in pod_specs(objects):
        assert pod["automountServiceAccountToken"] is False, name


@values_files
def test_every_pod_is_restricted(values: Path) -> None:
    for name, pod in pod_specs(render_values(values)):
        security = pod["securityContext"]
        assert security["runAsNonRoot"] is True, name
        assert security["runAsUser"] > 0, name
        assert security["seccompProfile"]["type"] == "RuntimeDefault", name
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            assert not pod.get(key), name
        assert all("hostPath" not in volume for volume in pod.get("volumes", [])), name
        for container in pod["containers"] + pod.get("initContainers", []):
            context = container["securityContext"]
            where = f"{name}/{container['name']}"
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["runAsNonRoot"] is True, where
            assert context.get("privileged", False) is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert "add" not in context["capabilities"], where


def _has_requests_and_limits(container: Obj) -> bool:
    resources = container.get("resources", {})
    return all(
        resources.get(kind, {}).get(what)
        for kind in ("requests", "limits")
        for what in ("cpu", "memory")
    )


@values_files
def test_every_container_has_probes_and_resources(values: Path) -> None:
    objects = render_values(values)
    for deployment in of_kind(objects, "Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            where = f"{deployment['metadata']['name']}/{container['name']}"
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert probe in container, f"{where}: no {probe}"
            assert _has_requests_and_limits(container), where
    for job in of_kind(objects, "Job"):
        for container in job["spec"]["template"]["spec"]["containers"]:
            assert _has_requests_and_limits(container), job["metadata"]["name"]


def test_services_are_probed_over_grpc_health_and_the_gateway_over_its_routes() -> None:
    objects = render_values(MINIMAL)
    for component in SERVICES:
        (container,) = named(objects, "Deployment", component)["spec"]["template"]["spec"][
            "containers"
        ]
        service = f"consilium.{component}.v1.{component.title()}Service"
        assert container["readinessProbe"]["grpc"]["service"] == service
        assert "grpc" in container["startupProbe"]
        # the name the probe asks for is the one the component registers with health
        assert service in (ROOT / "cli/components.py").read_text()
    (gateway,) = named(objects, "Deployment", "gateway")["spec"]["template"]["spec"]["containers"]
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    routes = (ROOT / "gateway/app.py").read_text()
    assert 'Route("/healthz"' in routes and 'Route("/readyz"' in routes


def _config(objects: tuple[Obj, ...], component: str) -> dict[str, str]:
    return dict(named(objects, "ConfigMap", component)["data"])


@values_files
def test_termination_grace_exceeds_what_each_process_waits_on_sigterm(values: Path) -> None:
    objects = render_values(values)
    for component in COMPONENTS:
        grace = named(objects, "Deployment", component)["spec"]["template"]["spec"][
            "terminationGracePeriodSeconds"
        ]
        config = _config(objects, component)
        if component == "gateway":  # uvicorn: the request timeout + 1 (gateway/serve.py)
            drain = float(config["CONSILIUM_GATEWAY_REQUEST_TIMEOUT"]) + 1
        else:
            drain = float(config[f"CONSILIUM_{component.upper()}_SHUTDOWN_GRACE"])
        assert grace >= drain + 10, component


SECRET_LOOKING = re.compile(r"DATABASE_URL|SECRET|SIGNING_KEY|MASTER_KEYS|PASSWORD|_KEY$")


@values_files
def test_no_secret_reaches_a_config_map_or_a_plain_env_value(values: Path) -> None:
    objects = render_values(values)
    secret_values = {
        base64.b64decode(value).decode()
        for secret in of_kind(objects, "Secret")
        for value in (secret.get("data") or {}).values()
    }
    for config_map in of_kind(objects, "ConfigMap"):
        for key, value in (config_map.get("data") or {}).items():
            assert not SECRET_LOOKING.search(key), f"{config_map['metadata']['name']}: {key}"
            for secret in secret_values:
                assert secret not in value, f"{config_map['metadata']['name']}: {key}"
    for name, pod in pod_specs(objects):
        for container in pod["containers"]:
            for env in container.get("env", []):
                if SECRET_LOOKING.search(env["name"]):
                    assert "secretKeyRef" in env.get("valueFrom", {}), f"{name}: {env['name']}"


def test_secrets_in_config_values_are_caught_by_the_test() -> None:
    """The check above can fail: a database URL put in a component's plain env is flagged."""
    objects = render(
        "-f", str(MINIMAL), "--set", "content.env.CONSILIUM_CONTENT_DATABASE_URL=postgresql://x"
    )
    keys = [k for cm in of_kind(objects, "ConfigMap") for k in (cm.get("data") or {})]
    assert any(SECRET_LOOKING.search(k) for k in keys)


def _secret_env(objects: tuple[Obj, ...], component: str) -> set[str]:
    (container,) = named(objects, "Deployment", component)["spec"]["template"]["spec"]["containers"]
    return {e["name"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})}


def test_content_holds_no_identity_or_anonymity_key() -> None:
    names = _secret_env(render_values(MINIMAL), "content")
    assert "CONSILIUM_CONTENT_DATABASE_URL" in names
    assert not names & {
        "CONSILIUM_IDENTITY_SIGNING_KEY",
        "CONSILIUM_ANONYMITY_MASTER_KEYS",
        "CONSILIUM_AUDIT_TAG_KEY",
        "CONSILIUM_ANONYMITY_SERVICE_PUBLIC_KEY",
    }


def test_no_component_holds_another_service_private_key_and_only_two_hold_the_tag_key() -> None:
    objects = render_values(MINIMAL)
    holders = set()
    for component in COMPONENTS:
        names = _secret_env(objects, component)
        own = {n for n in names if re.fullmatch(r"CONSILIUM_[A-Z]+_SERVICE_KEY", n)}
        assert own <= {f"CONSILIUM_{component.upper()}_SERVICE_KEY"}, component
        if "CONSILIUM_AUDIT_TAG_KEY" in names:
            holders.add(component)
    # the blind tag key links identity's audit events to people: identity and the ledger only
    assert holders == {"identity", "audit"}


def test_a_new_secret_key_is_one_values_entry() -> None:
    objects = render(
        "-f", str(MINIMAL),
        "--set", "audit.secretEnv.CONSILIUM_AUDIT_ERASURE_LOG_KEY=erasure-log-key",
        "--set", "audit.secret.values.erasure-log-key=ci-placeholder-erasure",
    )  # fmt: skip
    (audit,) = named(objects, "Deployment", "audit")["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in audit["env"]}
    ref = env["CONSILIUM_AUDIT_ERASURE_LOG_KEY"]["valueFrom"]["secretKeyRef"]
    assert ref["key"] == "erasure-log-key"
    secret = named(objects, "Secret", "audit")
    assert base64.b64decode(secret["data"]["erasure-log-key"]).decode() == "ci-placeholder-erasure"


def test_a_missing_secret_value_is_refused_at_render_time() -> None:
    done = template("-f", str(MINIMAL), "--set", "identity.secret.values.signing-key=")
    assert done.returncode != 0
    assert "identity.secret.values.signing-key is required" in done.stderr


def test_production_reads_every_key_from_existing_secrets() -> None:
    objects = render_values(PRODUCTION)
    assert of_kind(objects, "Secret") == []
    for component in SERVICES:
        (container,) = named(objects, "Deployment", component)["spec"]["template"]["spec"][
            "containers"
        ]
        refs = {
            e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e
        }
        assert refs == {f"consilium-{component}", "consilium-kafka-principals"}
        kafka_user = next(
            e for e in container["env"] if e["name"] == "CONSILIUM_KAFKA_SASL_USERNAME"
        )
        assert kafka_user["valueFrom"]["secretKeyRef"]["key"] == f"{component}-username"


@values_files
def test_gateway_and_content_autoscale_and_every_component_has_a_budget(values: Path) -> None:
    objects = render_values(values)
    assert {component_of(h) for h in of_kind(objects, "HorizontalPodAutoscaler")} == {
        "gateway",
        "content",
    }
    assert {component_of(p) for p in of_kind(objects, "PodDisruptionBudget")} == set(COMPONENTS)
    for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
        deployment = named(objects, "Deployment", component_of(hpa))
        assert "replicas" not in deployment["spec"]  # the HPA owns it


def test_the_service_monitor_selects_each_component_metrics_port() -> None:
    objects = render_values(PRODUCTION)
    monitors = of_kind(objects, "ServiceMonitor")
    assert {component_of(m) for m in monitors} == set(COMPONENTS)
    for monitor in monitors:
        service = named(objects, "Service", component_of(monitor))
        assert (
            monitor["spec"]["selector"]["matchLabels"].items()
            <= service["spec"]["selector"].items()
        )
        assert monitor["spec"]["endpoints"][0]["port"] in {
            p["name"] for p in service["spec"]["ports"]
        }
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def _hook(obj: Obj) -> tuple[set[str], int] | None:
    annotations = obj["metadata"].get("annotations") or {}
    if "helm.sh/hook" not in annotations:
        return None
    return set(annotations["helm.sh/hook"].split(",")), int(
        annotations.get("helm.sh/hook-weight", 0)
    )


@values_files
def test_hook_jobs_run_after_everything_they_read(values: Path) -> None:
    objects = render_values(values)
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    jobs = of_kind(objects, "Job")
    assert {component_of(j) for j in jobs} == {"migrate", "topics"}
    for job in jobs:
        hook = _hook(job)
        assert hook is not None and hook[0] == {"pre-install", "pre-upgrade"}
        pod = job["spec"]["template"]["spec"]
        reads = [("ServiceAccount", pod["serviceAccountName"])]
        for container in pod["containers"]:
            reads += [
                ("Secret", env["valueFrom"]["secretKeyRef"]["name"])
                for env in container.get("env", [])
                if "secretKeyRef" in env.get("valueFrom", {})
            ]
        if (np := by_name.get(("NetworkPolicy", job["metadata"]["name"]))) is not None:
            reads.append(("NetworkPolicy", np["metadata"]["name"]))
        for kind, name in reads:
            read = by_name.get((kind, name))
            if read is None:
                assert kind == "Secret", f"{kind}/{name} is neither rendered nor an existing Secret"
                continue  # an existing Secret: there before any release
            read_hook = _hook(read)
            assert read_hook is not None, (
                f"{kind}/{name} is created after the hook {job['metadata']['name']}"
            )
            assert read_hook[0] >= hook[0] and read_hook[1] < hook[1], f"{kind}/{name}"
            # copies of database URLs must not linger: Helm deletes them once all hooks succeeded
            policy = read["metadata"]["annotations"]["helm.sh/hook-delete-policy"]
            assert "hook-succeeded" in policy.split(","), f"{kind}/{name}"


def test_the_migration_job_gives_each_container_only_its_own_database_url() -> None:
    job = named(render_values(MINIMAL), "Job", "migrate")
    containers = job["spec"]["template"]["spec"]["containers"]
    assert {c["name"] for c in containers} == set(SERVICES)
    for container in containers:
        assert container["args"] == ["migrate", container["name"]]
        secret_env = {e["name"] for e in container["env"] if "valueFrom" in e}
        assert secret_env == {f"CONSILIUM_{container['name'].upper()}_DATABASE_URL"}


@values_files
def test_erasure_logs_outlive_pods_and_every_replica_shares_them(values: Path) -> None:
    objects = render_values(values)
    claims = {c["metadata"]["name"]: c for c in of_kind(objects, "PersistentVolumeClaim")}
    for component in ("identity", "anonymity"):
        deployment = named(objects, "Deployment", component)
        pod = deployment["spec"]["template"]["spec"]
        path = _config(objects, component)[f"CONSILIUM_{component.upper()}_ERASURE_LOG"]
        (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "erasure-log"]
        assert path.startswith(mount["mountPath"] + "/")
        (volume,) = [v for v in pod["volumes"] if v["name"] == "erasure-log"]
        claim = claims[volume["persistentVolumeClaim"]["claimName"]]
        assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        if deployment["spec"].get("replicas", 1) > 1:
            assert "ReadWriteMany" in claim["spec"]["accessModes"], component
