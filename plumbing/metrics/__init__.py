"""Prometheus metrics of every component: instruments, the scrape endpoint, the event sampler."""
