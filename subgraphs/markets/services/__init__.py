"""Business logic of the markets subgraph."""
