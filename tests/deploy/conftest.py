"""The SASL broker with the ACLs, started once for every Kafka test of this package (a start
costs 10-20 s): the ACL tests and the event clients' SASL/TLS tests share it. The wiring
test's fresh databases (`database_urls`) are a fixture of the package too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.deploy.kafka.acls import prepared_broker
from tests.deploy.kafka.broker import SaslBroker
from tests.deploy.wiring_values import database_urls as database_urls


@pytest.fixture(scope="package")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SaslBroker]:
    with prepared_broker(tmp_path_factory.mktemp("sasl-kafka")) as running:
        yield running
