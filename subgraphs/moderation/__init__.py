"""The moderation subgraph: text verdicts, reports, the review queue and its audit trail."""
