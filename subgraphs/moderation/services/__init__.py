"""Moderation's business logic: classification, verdicts, reports and the review queue."""
