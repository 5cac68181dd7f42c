"""The `consilium` command line: serve, migrate, dev."""
