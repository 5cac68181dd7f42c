"""Pure-Python domain of the audit service: no gRPC, Kafka, SQL or generated code."""
