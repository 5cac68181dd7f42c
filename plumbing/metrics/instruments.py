"""The Prometheus instruments every component records into: bounded labels, never personal data.

Each label takes its values from a closed set the code defines (gRPC method paths registered
on a server or a client stub, status code names, GraphQL root fields of the schema, topic and
consumer-group names, a fixed list of dead-letter reasons). Nothing a request carries (ids,
variables, query text, client-chosen operation names) ever becomes a label value: a user id or
an alias id in a label would both leak it and make the series count grow with the user base.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

#: Seconds; from a cached read (~5 ms) to the gateway's upstream deadline and request timeout.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)

GRPC_REQUESTS = Counter(
    "consilium_grpc_server_requests",
    "RPCs this service handled, by full method and gRPC status code.",
    ["method", "code"],
)
GRPC_DURATION = Histogram(
    "consilium_grpc_server_request_duration_seconds",
    "Time this service spent handling an RPC, by full method and gRPC status code.",
    ["method", "code"],
    buckets=LATENCY_BUCKETS,
)
GRPC_ERRORS = Counter(
    "consilium_grpc_server_errors",
    "RPCs this service answered with a status other than OK, by method and status code.",
    ["method", "code"],
)
UPSTREAM_REQUESTS = Counter(
    "consilium_upstream_requests",
    "gRPC calls this component made to another service, by service, method and status code.",
    ["service", "method", "code"],
)
UPSTREAM_DURATION = Histogram(
    "consilium_upstream_request_duration_seconds",
    "Time a gRPC call to another service took, retries included, by service and method.",
    ["service", "method"],
    buckets=LATENCY_BUCKETS,
)
GRAPHQL_REQUESTS = Counter(
    "consilium_graphql_requests",
    "GraphQL operations the gateway ran, by operation type, root fields and outcome.",
    ["operation_type", "operation", "outcome"],
)
GRAPHQL_DURATION = Histogram(
    "consilium_graphql_request_duration_seconds",
    "Time the gateway spent on one GraphQL operation, by operation type and root fields.",
    ["operation_type", "operation"],
    buckets=LATENCY_BUCKETS,
)
GRAPHQL_ERRORS = Counter(
    "consilium_graphql_errors",
    "Errors in GraphQL responses, by `extensions.code`.",
    ["code"],
)
OUTBOX_PENDING = Gauge(
    "consilium_outbox_pending_events",
    "Events written to this component's outbox and not yet published (sampled).",
    ["component"],
)
CONSUMER_LAG = Gauge(
    "consilium_consumer_lag_records",
    "Records of a partition not yet processed by the consumer group (sampled).",
    ["group", "topic", "partition"],
)
DEAD_LETTERS = Counter(
    "consilium_dead_letters",
    "Records a consumer gave up on and sent to `<topic>.dlq`, by group, topic and reason.",
    ["group", "topic", "reason"],
)

#: Dead-letter reasons as labels; the full reason (which may quote an error) stays in the
#: record's header and the log.
DEAD_LETTER_REASONS = ("malformed", "handler_failed")


def split_method(path: str) -> tuple[str, str]:
    """`/consilium.identity.v1.IdentityService/GetX` -> (`consilium.identity.v1.IdentityService`,
    `GetX`); anything else (never expected) lands under one `unknown` pair."""
    parts = path.split("/")
    if len(parts) != 3 or parts[0] or not parts[1] or not parts[2]:
        return "unknown", "unknown"
    return parts[1], parts[2]
