"""Pure-Python domain of the anonymity service: no gRPC, Kafka, SQL or generated code."""
