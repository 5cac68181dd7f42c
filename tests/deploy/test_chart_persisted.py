"""The gateway's persisted-operations manifest in the chart: values to ConfigMap, read-only mount,
environment and a rolling checksum; `only` without a manifest fails at template time; and the
rendered gateway, run as a process, runs the listed operation and refuses the rest."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from support.ports import free_port
from typer.testing import CliRunner

from cli.main import app as cli
from tests.deploy.chart import CHART, Obj, named, of_kind, render, template
from tests.deploy.wiring import Cluster

MINIMAL = CHART / "ci/minimal-values.yaml"
MOUNT = "/etc/consilium/persisted-operations"
LISTED = "query Ping { __typename }\n"
UNLISTED = "{ __typename }"


def _manifest(tmp_path: Path, document: str = LISTED) -> tuple[Path, str]:
    """`consilium persisted build` of one file; (manifest file, its first operation's id)."""
    source = tmp_path / "ops" / "ping.graphql"
    source.parent.mkdir(exist_ok=True)
    source.write_text(document)
    out = tmp_path / "manifest.json"
    result = CliRunner().invoke(cli, ["persisted", "build", str(source.parent), "--out", str(out)])
    assert result.exit_code == 0, result.output
    operations = json.loads(out.read_text())["operations"]
    return out, str(operations[0]["id"])


def _gateway(objects: list[Obj]) -> tuple[dict[str, str], Obj]:
    """The gateway's ConfigMap data and its Deployment's pod template."""
    config = named(objects, "ConfigMap", "gateway")["data"]
    return config, named(objects, "Deployment", "gateway")["spec"]["template"]


def test_no_manifest_by_default() -> None:
    objects = render("-f", str(MINIMAL))
    config, pod = _gateway(objects)
    assert config["CONSILIUM_GATEWAY_PERSISTED_MODE"] == "allow"
    assert "CONSILIUM_GATEWAY_PERSISTED_MANIFEST" not in config
    assert "persisted-operations" not in {v["name"] for v in pod["spec"]["volumes"]}
    assert not [o for o in of_kind(objects, "ConfigMap") if "persisted" in o["metadata"]["name"]]


def test_an_inline_manifest_is_mounted_read_only_and_named_in_the_environment(
    tmp_path: Path,
) -> None:
    manifest, _ = _manifest(tmp_path)
    objects = render("-f", str(MINIMAL), "--set", "gateway.persistedOperations.mode=only",
                     "--set-file", f"gateway.persistedOperations.manifest={manifest}")  # fmt: skip
    config, pod = _gateway(objects)
    held = named(objects, "ConfigMap", "gateway-persisted-operations")["data"]
    assert held == {"manifest.json": manifest.read_text()}
    assert config["CONSILIUM_GATEWAY_PERSISTED_MODE"] == "only"
    assert config["CONSILIUM_GATEWAY_PERSISTED_MANIFEST"] == f"{MOUNT}/manifest.json"
    (container,) = pod["spec"]["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "persisted-operations"]
    assert mount == {"name": "persisted-operations", "mountPath": MOUNT, "readOnly": True}
    (volume,) = [v for v in pod["spec"]["volumes"] if v["name"] == "persisted-operations"]
    assert volume["configMap"]["name"] == "consilium-gateway-persisted-operations"
    # Only the gateway gets it.
    for component in ("identity", "anonymity", "content", "audit"):
        spec = named(objects, "Deployment", component)["spec"]["template"]["spec"]
        assert "persisted-operations" not in {v["name"] for v in spec["volumes"]}


def test_a_new_manifest_rolls_the_gateway_and_nothing_else(tmp_path: Path) -> None:
    rendered = []
    for document in (LISTED, "query Ping { __typename }\nquery Other { __typename }\n"):
        manifest, _ = _manifest(tmp_path, document)
        rendered.append(render("-f", str(MINIMAL),
                               "--set-file", f"gateway.persistedOperations.manifest={manifest}"))  # fmt: skip

    def annotations(objects: list[Obj], component: str) -> dict[str, str]:
        pod = named(objects, "Deployment", component)["spec"]["template"]
        return dict(pod["metadata"]["annotations"])

    before, after = (annotations(objects, "gateway") for objects in rendered)
    assert before["checksum/persisted-operations"] != after["checksum/persisted-operations"]
    assert before["checksum/config"] == after["checksum/config"]
    assert annotations(rendered[0], "content") == annotations(rendered[1], "content")


def test_an_existing_config_map_under_its_own_key() -> None:
    objects = render("-f", str(MINIMAL), "--set", "gateway.persistedOperations.mode=only",
                     "--set", "gateway.persistedOperations.existingConfigMap=ops",
                     "--set", "gateway.persistedOperations.key=trusted.json")  # fmt: skip
    config, pod = _gateway(objects)
    assert config["CONSILIUM_GATEWAY_PERSISTED_MANIFEST"] == f"{MOUNT}/trusted.json"
    (volume,) = [v for v in pod["spec"]["volumes"] if v["name"] == "persisted-operations"]
    assert volume["configMap"]["name"] == "ops"
    assert not [o for o in of_kind(objects, "ConfigMap") if "persisted" in o["metadata"]["name"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--set", "gateway.persistedOperations.mode=only"),
         "gateway.persistedOperations.mode=only runs only the manifest's operations"),
        (("--set", "gateway.persistedOperations.existingConfigMap=ops",
          "--set-file", "gateway.persistedOperations.manifest={manifest}"),
         "set manifest or existingConfigMap, not both"),
        (("--set-file", "gateway.persistedOperations.manifest={broken}"), "is not JSON"),
        (("--set-string", "gateway.env.CONSILIUM_GATEWAY_PERSISTED_MODE=only"),
         "set gateway.persistedOperations"),
        (("--set", "gateway.persistedOperations.mode=sometimes"),
         "values don't meet the specifications of the schema"),
    ],
    ids=["only-without-manifest", "both", "not-json", "env-instead", "unknown-mode"],
)  # fmt: skip
def test_settings_that_cannot_work_fail_at_template_time(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    manifest, _ = _manifest(tmp_path)
    broken = tmp_path / "broken.json"
    broken.write_text('{"abc": ')
    done = template("-f", str(MINIMAL),
                    *(a.format(manifest=manifest, broken=broken) for a in args))  # fmt: skip
    assert done.returncode != 0
    assert message in done.stderr


@pytest.mark.kafka
@pytest.mark.timeout(120)
def test_the_rendered_gateway_runs_the_listed_operation_only(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    """The gateway process with the rendered environment and the ConfigMap as its mounted file:
    the manifest's operation runs, an unlisted id gets PERSISTED_QUERY_NOT_FOUND."""
    manifest, listed = _manifest(tmp_path)
    port = free_port()
    key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    values = tmp_path / "values.yaml"
    values.write_text(
        yaml.safe_dump(
            {
                "kafka": {"bootstrap": kafka_bootstrap},
                "gateway": {
                    "port": port,
                    "secret": {"values": {"service-key": key.decode()}},
                    "persistedOperations": {"mode": "only"},
                },
            }
        )
    )
    objects = render("-f", str(MINIMAL), "-f", str(values),
                     "--set-file", f"gateway.persistedOperations.manifest={manifest}")  # fmt: skip
    (pod,) = Cluster(objects, tmp_path / "pods").pods("Deployment", "gateway")
    assert pod.env["CONSILIUM_GATEWAY_PERSISTED_MANIFEST"].startswith(str(tmp_path / "pods"))
    url = f"http://127.0.0.1:{port}/graphql"
    pod.start()
    try:
        with httpx.Client(timeout=10) as http:
            deadline = time.monotonic() + 60
            while True:  # bounded: until the process serves (it needs no upstream for this)
                try:
                    ran = http.post(url, json={"documentId": f"sha256:{listed}"})
                    break
                except httpx.TransportError:
                    assert pod.process is not None and pod.process.poll() is None, pod.output()
                    assert time.monotonic() < deadline, pod.output()
                    time.sleep(0.2)
            unlisted = http.post(
                url,
                json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
            )
            free = http.post(url, json={"query": UNLISTED})
    finally:
        pod.stop()
    assert ran.json() == {"data": {"__typename": "Query"}}, ran.text
    codes = [[e["extensions"]["code"] for e in r.json()["errors"]] for r in (unlisted, free)]
    assert codes == [["PERSISTED_QUERY_NOT_FOUND"], ["PERSISTED_QUERY_REQUIRED"]]
