"""The markets subgraph: a marketplace of work (bounties), beside prediction markets to come."""
