"""Kafka security settings: what the chart sets becomes aiokafka arguments; contradictions fail
at startup with the variable to fix; the password never shows in a message or repr."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from plumbing.events.factory import create_bus
from plumbing.events.kafka import KafkaBus
from plumbing.events.kafka_security import KafkaSecurity, KafkaSettingsError

SASL = {
    "CONSILIUM_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
    "CONSILIUM_KAFKA_SASL_MECHANISM": "scram-sha-256",
    "CONSILIUM_KAFKA_SASL_USERNAME": "content",
    "CONSILIUM_KAFKA_SASL_PASSWORD": "s3cret-pw",
}


def _self_signed_ca(directory: Path, common_name: str = "test CA") -> Path:
    """A self-signed certificate at `<directory>/ca.crt`, its key at `<directory>/ca.key`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    path = directory / "ca.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "ca.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def test_plaintext_by_default() -> None:
    security = KafkaSecurity.from_env({})
    assert security.client_args() == {"security_protocol": "PLAINTEXT"}


def test_sasl_settings_become_client_arguments() -> None:
    args = KafkaSecurity.from_env(SASL).client_args()
    assert args == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "content",
        "sasl_plain_password": "s3cret-pw",
    }


def test_the_password_may_come_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("from-a-file\n")
    env = {k: v for k, v in SASL.items() if k != "CONSILIUM_KAFKA_SASL_PASSWORD"}
    env["CONSILIUM_KAFKA_SASL_PASSWORD_FILE"] = str(tmp_path / "pw")
    assert KafkaSecurity.from_env(env).client_args()["sasl_plain_password"] == "from-a-file"
    with pytest.raises(KafkaSettingsError, match="not both"):
        KafkaSecurity.from_env({**env, "CONSILIUM_KAFKA_SASL_PASSWORD": "x"})
    with pytest.raises(KafkaSettingsError, match=r"cannot read.*PASSWORD_FILE"):
        KafkaSecurity.from_env({**env, "CONSILIUM_KAFKA_SASL_PASSWORD_FILE": "/nonexistent"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"CONSILIUM_KAFKA_SASL_USERNAME": ""}, "needs CONSILIUM_KAFKA_SASL_USERNAME"),
        ({"CONSILIUM_KAFKA_SASL_PASSWORD": ""}, "needs CONSILIUM_KAFKA_SASL_PASSWORD"),
        ({"CONSILIUM_KAFKA_SASL_MECHANISM": ""}, "needs CONSILIUM_KAFKA_SASL_MECHANISM"),
        ({"CONSILIUM_KAFKA_SASL_MECHANISM": "GSSAPI"}, "SCRAM-SHA-512, SCRAM-SHA-256, PLAIN"),
        ({"CONSILIUM_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"}, "SASL credentials are set"),
        ({"CONSILIUM_KAFKA_SECURITY_PROTOCOL": "TLS"}, "is not one of"),
        ({"CONSILIUM_KAFKA_SSL_CAFILE": "/etc/ca.crt"}, "TLS files are set"),
    ],
)
def test_inconsistent_settings_fail_with_the_variable_to_fix(
    change: dict[str, str], message: str
) -> None:
    with pytest.raises(KafkaSettingsError, match=message) as caught:
        KafkaSecurity.from_env({**SASL, **change})
    assert "s3cret-pw" not in str(caught.value)


def test_create_bus_reads_them_at_startup(tmp_path: Path) -> None:
    """A component with a SASL mechanism but no username never starts serving."""
    env = {"CONSILIUM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
           "CONSILIUM_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"}  # fmt: skip
    with pytest.raises(KafkaSettingsError, match="needs CONSILIUM_KAFKA_SASL_USERNAME"):
        create_bus(kafka_bootstrap="kafka:9092", data_dir=tmp_path, client_id="c", environ=env)
    bus = create_bus(kafka_bootstrap="kafka:9092", data_dir=tmp_path, client_id="c", environ=SASL)
    assert isinstance(bus, KafkaBus)


def test_tls_builds_a_verifying_context_from_the_ca_file(tmp_path: Path) -> None:
    env = {**SASL, "CONSILIUM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
           "CONSILIUM_KAFKA_SSL_CAFILE": str(_self_signed_ca(tmp_path))}  # fmt: skip
    context = KafkaSecurity.from_env(env).client_args()["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "test CA"),),)]


def test_a_client_certificate_and_key_are_loaded_and_must_match(tmp_path: Path) -> None:
    (tmp_path / "client").mkdir()
    (tmp_path / "other").mkdir()
    cert = _self_signed_ca(tmp_path / "client", "content")
    _self_signed_ca(tmp_path / "other", "someone else")
    env = {"CONSILIUM_KAFKA_SECURITY_PROTOCOL": "SSL", "CONSILIUM_KAFKA_SSL_CERTFILE": str(cert)}
    matching = {**env, "CONSILIUM_KAFKA_SSL_KEYFILE": str(tmp_path / "client/ca.key")}
    assert isinstance(KafkaSecurity.from_env(matching).client_args()["ssl_context"], ssl.SSLContext)
    wrong = {**env, "CONSILIUM_KAFKA_SSL_KEYFILE": str(tmp_path / "other/ca.key")}
    with pytest.raises(KafkaSettingsError, match="cannot load the Kafka TLS files"):
        KafkaSecurity.from_env(wrong)


def test_a_missing_or_bad_tls_file_fails_at_startup(tmp_path: Path) -> None:
    env = {"CONSILIUM_KAFKA_SECURITY_PROTOCOL": "SSL"}
    with pytest.raises(KafkaSettingsError, match=r"CAFILE=.* is not a readable file"):
        KafkaSecurity.from_env({**env, "CONSILIUM_KAFKA_SSL_CAFILE": str(tmp_path / "none")})
    (tmp_path / "junk.crt").write_text("not a certificate")
    with pytest.raises(KafkaSettingsError, match="cannot load the Kafka TLS files"):
        KafkaSecurity.from_env({**env, "CONSILIUM_KAFKA_SSL_CAFILE": str(tmp_path / "junk.crt")})
    with pytest.raises(KafkaSettingsError, match="KEYFILE is set without"):
        KafkaSecurity.from_env({**env, "CONSILIUM_KAFKA_SSL_KEYFILE": str(tmp_path / "k")})


def test_the_password_stays_out_of_repr_and_descriptions() -> None:
    security = KafkaSecurity.from_env(SASL)
    assert "s3cret-pw" not in repr(security)
    assert "s3cret-pw" not in security.describe()
    assert security.describe() == "SASL_PLAINTEXT as 'content' (SCRAM-SHA-256)"
