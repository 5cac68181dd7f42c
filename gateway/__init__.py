"""The GraphQL gateway (Strawberry on Starlette)."""
