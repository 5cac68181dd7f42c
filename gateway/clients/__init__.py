"""gRPC clients of the upstream services; each converts failures into domain errors."""
