"""Events: envelope, outbox and relay, idempotent consumers, Kafka and the embedded bus."""
