"""GraphQL types of the content subgraph."""
