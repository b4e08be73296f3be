"""Root fields of the content subgraph."""
