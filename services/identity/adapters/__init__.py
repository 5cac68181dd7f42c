"""Identity's adapters: database, gRPC servicer."""
