"""A single-node Kafka broker with a SASL/SCRAM listener and the standard authorizer, started
from the same cached jars as the test broker (scripts/kafka.sh), for the ACL tests.

Its one start serves every SASL test: a SASL_PLAINTEXT listener (SCRAM-SHA-512, SCRAM-SHA-256
and PLAIN for every principal, one password each) and a SASL_SSL listener on a throwaway CA."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from support.ports import free_ports

from tests.deploy.kafka.tls import BrokerTls, make_broker_tls, properties_value

ROOT = Path(__file__).resolve().parents[3]
LIBS = (
    Path(os.environ.get("CONSILIUM_CACHE", Path.home() / ".cache/consilium")) / "kafka-4.3.1/libs"
)
ADMIN = "admin"


@dataclass(frozen=True)
class SaslBroker:
    bootstrap: str
    passwords: dict[str, str]
    #: The SASL_SSL listener and the CA file that signed its certificate.
    tls_bootstrap: str
    ca_file: Path

    def client_args(self, principal: str) -> dict[str, str]:
        """aiokafka keyword arguments to connect as `principal`."""
        return {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": principal,
            "sasl_plain_password": self.passwords[principal],
        }


def _properties(ports: list[int], data: Path, passwords: dict[str, str], tls: BrokerTls) -> str:
    port, tls_port, controller = ports
    jaas = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required"
        f' username="{ADMIN}" password="{passwords[ADMIN]}";'
    )
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    plain_users = " ".join(f'user_{name}="{password}"' for name, password in passwords.items())
    plain = f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};"
    listeners = (
        f"SASL_PLAINTEXT://127.0.0.1:{port},SASL_SSL://127.0.0.1:{tls_port},"
        f"CONTROLLER://127.0.0.1:{controller}"
    )
    return f"""process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller}
listeners={listeners}
advertised.listeners={listeners}
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config={jaas}
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config={scram}
listener.name.sasl_plaintext.plain.sasl.jaas.config={plain}
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={scram}
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config={scram}
listener.name.sasl_ssl.plain.sasl.jaas.config={plain}
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.certificate.chain={properties_value(tls.chain_pem)}
listener.name.sasl_ssl.ssl.keystore.key={properties_value(tls.key_pem)}
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
# The broker itself (SCRAM admin) and the loopback-only controller listener (no SASL there).
super.users=User:{ADMIN};User:ANONYMOUS
log.dirs={data}
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
"""


def _java(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["java", "-Xmx256m", "-cp", f"{LIBS}/*", *args],
        capture_output=True, text=True, check=False, timeout=120, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


@contextmanager
def sasl_broker(workdir: Path, principals: list[str]) -> Iterator[SaslBroker]:
    """Formats and starts the broker with a SCRAM user per principal; stops it afterwards."""
    assert LIBS.is_dir(), f"{LIBS} is missing: scripts/kafka.sh fetches the Kafka jars"
    passwords = {p: secrets.token_urlsafe(16) for p in [ADMIN, *principals]}
    ports = free_ports(3)
    tls = make_broker_tls(workdir)
    config = workdir / "server.properties"
    config.write_text(_properties(ports, workdir / "data", passwords, tls))
    cluster = _java("kafka.tools.StorageTool", "random-uuid").stdout.strip().splitlines()[-1]
    scram = [
        arg
        for name, password in passwords.items()
        for sha in ("SHA-512", "SHA-256")
        for arg in ("--add-scram", f"SCRAM-{sha}=[name={name},password={password}]")
    ]
    formatted = _java(
        "kafka.tools.StorageTool",
        "format",
        "--standalone",
        "-t",
        cluster,
        "-c",
        str(config),
        *scram,
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    log = (workdir / "broker.log").open("wb")
    process = subprocess.Popen(
        ["java", "-Xms256m", "-Xmx512m", "-Djava.awt.headless=true",
         f"-Dlog4j2.configurationFile={ROOT / 'deploy/kafka/log4j2.properties'}",
         "-cp", f"{LIBS}/*", "kafka.Kafka", str(config)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:  # bounded wait on the listener; the caller then waits on an admin call
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", ports[0])) == 0:
                    break
            assert process.poll() is None, (workdir / "broker.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the SASL broker never listened"
            time.sleep(0.2)
        yield SaslBroker(f"127.0.0.1:{ports[0]}", passwords, f"127.0.0.1:{ports[1]}", tls.ca_file)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def apply_acls(broker: SaslBroker, lines: list[str]) -> str:
    """Creates the ACLs (principal|resourceType|name|patternType|operation) as the super user."""
    done = _java(
        str(Path(__file__).with_name("KafkaAcls.java")), broker.bootstrap, ADMIN,
        broker.passwords[ADMIN], input="\n".join(lines) + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
