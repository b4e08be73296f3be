"""Fetch-graph passes, each `def pass_(groups) -> groups`, applied in order by the planner."""

from .merge_siblings import merge_siblings

__all__ = ["merge_siblings"]
