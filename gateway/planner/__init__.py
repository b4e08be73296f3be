"""Query planning: operation + supergraph -> plan. Pure: no I/O, nothing from executor/server."""

from .fetch_graph import PlanningError
from .operation import NormalizedOperation, OperationError, normalize_operation
from .plan import (
    Condition,
    Fetch,
    Flatten,
    InputField,
    InputFragment,
    Parallel,
    PlanNode,
    QueryPlan,
    Sequence,
)
from .planner import QueryPlanner
from .printer import plan_to_json, print_plan

__all__ = [
    "Condition",
    "Fetch",
    "Flatten",
    "InputField",
    "InputFragment",
    "NormalizedOperation",
    "OperationError",
    "Parallel",
    "PlanNode",
    "PlanningError",
    "QueryPlan",
    "QueryPlanner",
    "Sequence",
    "normalize_operation",
    "plan_to_json",
    "print_plan",
]
