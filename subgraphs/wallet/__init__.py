"""The wallet subgraph: a double-entry ledger, tips, deposits, cashouts, escrow and leaderboards."""
