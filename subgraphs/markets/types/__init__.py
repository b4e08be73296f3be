"""GraphQL types of the markets subgraph."""
