"""How the event clients authenticate to Kafka: SASL (SCRAM, PLAIN) and TLS, from the environment.

One `KafkaSecurity` per process, read once at startup from `CONSILIUM_KAFKA_*` (the Helm chart
sets them per component, each with its own principal). Every aiokafka producer, consumer and
admin client is built with `client_args()`, so none of them can connect with less. Settings
that contradict each other fail startup with a message naming the variable to fix; a broker
that refuses the credentials or the certificate is reported as such (`explain_failure`),
not as aiokafka's "Unable to bootstrap", which looks the same as a broker that is down.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka.conn import create_conn
from aiokafka.errors import (
    AuthenticationFailedError,
    AuthenticationMethodNotSupported,
    IllegalSaslStateError,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)
from aiokafka.helpers import create_ssl_context

PROTOCOL_ENV = "CONSILIUM_KAFKA_SECURITY_PROTOCOL"
MECHANISM_ENV = "CONSILIUM_KAFKA_SASL_MECHANISM"
USERNAME_ENV = "CONSILIUM_KAFKA_SASL_USERNAME"
PASSWORD_ENV = "CONSILIUM_KAFKA_SASL_PASSWORD"
PASSWORD_FILE_ENV = "CONSILIUM_KAFKA_SASL_PASSWORD_FILE"
CAFILE_ENV = "CONSILIUM_KAFKA_SSL_CAFILE"
CERTFILE_ENV = "CONSILIUM_KAFKA_SSL_CERTFILE"
KEYFILE_ENV = "CONSILIUM_KAFKA_SSL_KEYFILE"

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


class KafkaSettingsError(ValueError):
    """The Kafka security settings are inconsistent, or the broker refused them."""


@dataclass(frozen=True)
class KafkaSecurity:
    """Validated security settings; PLAINTEXT (no SASL, no TLS) by default."""

    protocol: str = "PLAINTEXT"
    mechanism: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    _ssl_context: ssl.SSLContext | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise KafkaSettingsError(
                f"{PROTOCOL_ENV}={self.protocol!r} is not one of {', '.join(PROTOCOLS)}"
            )
        if self.sasl:
            if self.mechanism not in MECHANISMS:
                raise KafkaSettingsError(
                    f"{PROTOCOL_ENV}={self.protocol} needs {MECHANISM_ENV}, one of "
                    f"{', '.join(MECHANISMS)} (got {self.mechanism!r})"
                )
            if not self.username:
                raise KafkaSettingsError(f"{PROTOCOL_ENV}={self.protocol} needs {USERNAME_ENV}")
            if not self.password:
                raise KafkaSettingsError(
                    f"{PROTOCOL_ENV}={self.protocol} needs {PASSWORD_ENV} or {PASSWORD_FILE_ENV}"
                )
        elif self.mechanism or self.username or self.password:
            raise KafkaSettingsError(
                f"SASL credentials are set but {PROTOCOL_ENV}={self.protocol}: set it to "
                "SASL_SSL (or SASL_PLAINTEXT), or unset the CONSILIUM_KAFKA_SASL_* variables"
            )
        if not self.tls and (self.cafile or self.certfile or self.keyfile):
            raise KafkaSettingsError(
                f"TLS files are set but {PROTOCOL_ENV}={self.protocol}: set it to SASL_SSL "
                "or SSL, or unset the CONSILIUM_KAFKA_SSL_* variables"
            )
        if self.keyfile and not self.certfile:
            raise KafkaSettingsError(f"{KEYFILE_ENV} is set without {CERTFILE_ENV}")
        if self.tls:
            # Built now, so a missing or unreadable file fails startup, not the first publish.
            object.__setattr__(self, "_ssl_context", self._build_ssl_context())

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KafkaSecurity:
        """Reads `CONSILIUM_KAFKA_*`; the password may come from a file (`_PASSWORD_FILE`)."""
        env = os.environ if environ is None else environ

        def value(name: str) -> str | None:
            return env.get(name, "").strip() or None

        def path(name: str) -> Path | None:
            raw = value(name)
            return Path(raw) if raw else None

        password = env.get(PASSWORD_ENV) or None
        password_file = value(PASSWORD_FILE_ENV)
        if password and password_file:
            raise KafkaSettingsError(f"set {PASSWORD_ENV} or {PASSWORD_FILE_ENV}, not both")
        if password_file:
            try:
                password = Path(password_file).read_text().rstrip("\r\n")
            except OSError as exc:
                raise KafkaSettingsError(
                    f"cannot read the file named by {PASSWORD_FILE_ENV}: {exc.strerror}"
                ) from None
        mechanism = value(MECHANISM_ENV)
        return cls(
            protocol=(value(PROTOCOL_ENV) or "PLAINTEXT").upper(),
            mechanism=mechanism.upper() if mechanism else None,
            username=value(USERNAME_ENV),
            password=password,
            cafile=path(CAFILE_ENV),
            certfile=path(CERTFILE_ENV),
            keyfile=path(KEYFILE_ENV),
        )

    def _build_ssl_context(self) -> ssl.SSLContext:
        for name, file in ((CAFILE_ENV, self.cafile), (CERTFILE_ENV, self.certfile),
                           (KEYFILE_ENV, self.keyfile)):  # fmt: skip
            if file is not None and not file.is_file():
                raise KafkaSettingsError(f"{name}={file} is not a readable file")
        try:
            # Verifies the broker's certificate and host name (against the CA file, or the
            # system's CAs when none is given).
            context: ssl.SSLContext = create_ssl_context(
                cafile=self.cafile, certfile=self.certfile, keyfile=self.keyfile
            )
        except (ssl.SSLError, ValueError) as exc:
            raise KafkaSettingsError(
                f"cannot load the Kafka TLS files ({CAFILE_ENV}, {CERTFILE_ENV}, "
                f"{KEYFILE_ENV}): {exc}"
            ) from None
        return context

    def client_args(self) -> dict[str, Any]:
        """Keyword arguments for every aiokafka client (producer, consumer, admin)."""
        args: dict[str, Any] = {"security_protocol": self.protocol}
        if self.sasl:
            args |= {
                "sasl_mechanism": self.mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        if self._ssl_context is not None:
            args["ssl_context"] = self._ssl_context
        return args

    def describe(self) -> str:
        """For messages: the protocol and principal, never the password."""
        if self.sasl:
            return f"{self.protocol} as {self.username!r} ({self.mechanism})"
        return self.protocol


#: What a broker answers to a login it refuses (or a mechanism it does not enable).
_REFUSED_LOGIN = (
    SaslAuthenticationFailed,
    AuthenticationFailedError,
    AuthenticationMethodNotSupported,
    UnsupportedSaslMechanismError,
    IllegalSaslStateError,
)


async def explain_failure(
    bootstrap: str, security: KafkaSecurity, *, budget: float = 5.0
) -> KafkaSettingsError | None:
    """After a client failed to start: if a bootstrap server answers but refuses our credentials
    or our TLS handshake, the error saying so; None when the broker is just unreachable, or
    when finding out takes longer than `budget` seconds (the relay may hold a claim meanwhile)."""
    try:
        async with asyncio.timeout(budget):
            return await _probe(bootstrap, security)
    except TimeoutError:
        return None


async def _probe(bootstrap: str, security: KafkaSecurity) -> KafkaSettingsError | None:
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        if not host or not port.isdigit():
            continue
        try:
            conn = await create_conn(
                host, int(port), request_timeout_ms=5_000, **security.client_args()
            )
        except ssl.SSLError as exc:
            return KafkaSettingsError(
                f"the TLS handshake with Kafka at {server} failed ({exc.reason or exc}): check "
                f"{CAFILE_ENV} (the CA that signed the broker's certificate) and that the "
                "bootstrap host names match the certificate"
            )
        except _REFUSED_LOGIN as exc:
            return KafkaSettingsError(
                f"Kafka at {server} refused {security.describe()}: check {USERNAME_ENV}, "
                f"{PASSWORD_ENV} and {MECHANISM_ENV} ({type(exc).__name__})"
            )
        except KafkaError:
            continue
        except OSError:
            continue
        conn.close()
    return None
