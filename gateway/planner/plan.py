"""Query plan nodes as plain data; names follow Apollo's QueryPlan.ts so plans can be compared."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, kw_only=True, slots=True)
class InputField:
    """One field of an entity representation, read from the response under `source`."""

    name: str
    source: str  # response key in our merged data (differs from `name` when aliased)
    selections: tuple[InputField, ...] | None = None
    is_key: bool = False  # a null key field drops the representation
    types: frozenset[str] | None = None  # from `... on T`: only objects of these types carry it
    type_condition: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class InputFragment:
    """Representations for objects whose `__typename` is one of `types`."""

    type_condition: str
    types: frozenset[str]
    typename: str  # what the representation says `__typename` is (an interface for @interfaceObject)
    fields: tuple[InputField, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Fetch:
    service_name: str
    operation: str
    operation_kind: Literal["query", "mutation", "subscription"] = "query"
    variable_usages: tuple[str, ...] = ()
    requires: tuple[InputFragment, ...] = ()  # empty for root fetches
    # (path from the fetched object, reserved alias, response name): keys renamed on arrival
    output_rewrites: tuple[tuple[tuple[str, ...], str, str], ...] = ()
    id: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Flatten:
    path: tuple[str, ...]  # "@" = each list item
    node: PlanNode


@dataclass(frozen=True, kw_only=True, slots=True)
class Sequence:
    nodes: tuple[PlanNode, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Parallel:
    nodes: tuple[PlanNode, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Condition:
    condition: str  # variable name
    if_clause: PlanNode | None
    else_clause: PlanNode | None


PlanNode = Fetch | Flatten | Sequence | Parallel | Condition


def in_sequence(nodes: list[PlanNode]) -> PlanNode:
    """Run `nodes` one after another, without nesting a Sequence in a Sequence."""
    if len(nodes) == 1:
        return nodes[0]
    flat: list[PlanNode] = []
    for node in nodes:
        flat.extend(node.nodes if isinstance(node, Sequence) else (node,))
    return Sequence(nodes=tuple(flat))


@dataclass(frozen=True, kw_only=True, slots=True)
class QueryPlan:
    node: PlanNode | None
    operation_kind: Literal["query", "mutation", "subscription"] = "query"
