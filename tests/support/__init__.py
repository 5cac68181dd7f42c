"""Shared test support: starting the whole system on loopback."""
