"""GraphQL subscriptions: content's events fanned out to WebSocket subscribers."""
