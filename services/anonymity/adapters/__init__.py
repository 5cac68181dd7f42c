"""Anonymity's adapters: database, gRPC servicer, identity client."""
