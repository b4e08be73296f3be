"""GraphQL types of the moderation subgraph."""
