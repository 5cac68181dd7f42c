"""Persisted operations: trusted-document manifests, automatic persisted queries, and modes."""
