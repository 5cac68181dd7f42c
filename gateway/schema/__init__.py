"""The GraphQL schema (an Apollo Federation v2 subgraph), assembled from small modules."""
