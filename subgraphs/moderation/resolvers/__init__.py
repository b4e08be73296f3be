"""Root fields of the moderation subgraph."""
