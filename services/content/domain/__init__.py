"""Pure-Python domain of the content service: no gRPC, Kafka, SQL or generated code."""
