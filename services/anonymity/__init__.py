"""The anonymity service."""
