"""The SASL broker with the ACLs, started once for every Kafka test of this package (a start
costs 10-20 s): the ACL tests and the event clients' SASL/TLS tests share it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.deploy.kafka.acls import prepared_broker
from tests.deploy.kafka.broker import SaslBroker


@pytest.fixture(scope="package")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SaslBroker]:
    with prepared_broker(tmp_path_factory.mktemp("sasl-kafka")) as running:
        yield running
