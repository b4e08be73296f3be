"""Admin fields over the social outbox's dead letters (shared.dead_letter_schema)."""

from __future__ import annotations

from shared.dead_letter_schema import dead_letter_fields

__all__ = ["DeadLetterMutation", "DeadLetterQuery"]

DeadLetterQuery, DeadLetterMutation = dead_letter_fields("social")
