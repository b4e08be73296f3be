"""Root fields of the markets subgraph."""
