"""gRPC mechanisms: server bootstrap, channels, interceptors and the error table."""
