"""Consilium services: identity, anonymity, content, audit; each stands alone."""
