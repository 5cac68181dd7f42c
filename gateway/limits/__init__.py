"""Request limits the gateway applies itself: per-person writes, anonymous callers, retries."""
