"""GraphQL types of the wallet subgraph."""
