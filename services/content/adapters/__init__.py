"""Content's adapters: database, full-text search, gRPC servicer."""
