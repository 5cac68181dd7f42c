"""Turns rendered pods into local processes: their exact command, args and environment, with
ConfigMaps and Secrets resolved, volumes as folders and in-cluster addresses on loopback."""

from __future__ import annotations

import base64
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tests.deploy.chart import Obj, of_kind

BIN = Path(sys.executable).parent


@dataclass
class Pod:
    """One container of a rendered Deployment or Job, ready to run as a local process."""

    name: str
    argv: list[str]
    env: dict[str, str]
    grace: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.argv, env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def run(self, timeout: float = 120) -> None:
        """Runs to completion (a Job); fails with its output unless it exits 0."""
        with self.log_path.open("wb") as log:
            done = subprocess.run(
                self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout
            )
        assert done.returncode == 0, f"{self.name}: {self.output()}"

    def stop(self) -> int:
        """SIGTERM, then the pod's termination grace, as the kubelet does; the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=self.grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(timeout=10)
            code = -9 if code == 0 else code
        if self._log is not None:
            self._log.close()
        return code

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


class Cluster:
    """The rendered objects of one release, and where each in-cluster name lands locally."""

    def __init__(self, objects: list[Obj], root: Path, namespace: str = "consilium") -> None:
        self.objects = objects
        self.root = root
        self.config_maps = {
            o["metadata"]["name"]: o.get("data") or {} for o in of_kind(objects, "ConfigMap")
        }
        self.secrets = {
            o["metadata"]["name"]: {
                k: base64.b64decode(v).decode() for k, v in (o.get("data") or {}).items()
            }
            for o in of_kind(objects, "Secret")
        }
        # Service DNS names (short and namespaced) -> loopback; service port == target port for
        # every in-cluster caller (gRPC services), which the test checks.
        self.hosts = {}
        for service in of_kind(objects, "Service"):
            name = service["metadata"]["name"]
            for host in (f"{name}.{namespace}.svc.cluster.local", f"{name}.{namespace}.svc", name):
                self.hosts[host] = "127.0.0.1"

    def _loopback(self, value: str) -> str:
        for host, local in sorted(self.hosts.items(), key=lambda kv: -len(kv[0])):
            value = value.replace(f"{host}:", f"{local}:")
        return value

    def _secret(self, ref: dict[str, Any]) -> str:
        return self.secrets[ref["name"]][ref["key"]]

    def pods(self, kind: str, component: str) -> list[Pod]:
        """Every container of the `kind` whose component label is `component`."""
        (workload,) = [
            o for o in of_kind(self.objects, kind)
            if o["metadata"]["labels"]["app.kubernetes.io/component"] == component
        ]  # fmt: skip
        spec = workload["spec"]["template"]["spec"]
        home = self.root / component
        mounts = self._volumes(spec, home)
        pods = []
        for container in spec["containers"]:
            env: dict[str, str] = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(home)}
            for source in container.get("envFrom", []):
                env.update(self.config_maps[source["configMapRef"]["name"]])
            for item in container.get("env", []):
                if "value" in item:
                    env[item["name"]] = item["value"]
                else:
                    env[item["name"]] = self._secret(item["valueFrom"]["secretKeyRef"])
            for mount in container.get("volumeMounts", []):
                local = mounts[mount["name"]]
                env = {k: v.replace(mount["mountPath"], str(local)) for k, v in env.items()}
            env = {k: self._loopback(v) for k, v in env.items()}
            env = {k: "127.0.0.1" if v == "0.0.0.0" else v for k, v in env.items()}
            command = [*container.get("command", []), *container.get("args", [])]
            assert command[0] == "consilium", command
            pods.append(
                Pod(
                    name=f"{component}/{container['name']}",
                    argv=[str(BIN / "consilium"), *command[1:]],
                    env=env,
                    grace=int(spec.get("terminationGracePeriodSeconds", 30)),
                    log_path=home / f"{container['name']}.log",
                )
            )
        return pods

    def _volumes(self, spec: Obj, home: Path) -> dict[str, Path]:
        """Each volume as a local folder: emptyDir empty, ConfigMap/Secret as their files."""
        folders = {}
        for volume in spec.get("volumes", []):
            folder = home / "volumes" / volume["name"]
            folder.mkdir(parents=True, exist_ok=True)
            if "configMap" in volume:
                files = self.config_maps[volume["configMap"]["name"]]
            elif "secret" in volume:
                files = self.secrets[volume["secret"]["secretName"]]
            else:
                files = {}
            for name, content in files.items():
                (folder / name).write_text(content)
            folders[volume["name"]] = folder
        return folders
