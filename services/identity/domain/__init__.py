"""Pure-Python domain of the identity service: no gRPC, Kafka, SQL or generated code."""
