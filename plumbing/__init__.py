"""Shared mechanisms (settings, gRPC, database, logging, telemetry); no domain types."""
