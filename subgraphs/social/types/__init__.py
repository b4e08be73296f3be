"""GraphQL types of the social subgraph, one module per entity."""
