"""Root fields of the social subgraph: thin resolvers over the services."""
