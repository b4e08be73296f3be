"""Business logic of the social subgraph: async functions taking `session`/`kv` explicitly."""
