"""Root fields of the wallet subgraph."""
