"""Fetch groups -> plan nodes: operations printed, dependencies turned into Sequence/Parallel."""

from __future__ import annotations

from .fetch_graph import FetchGroup, freeze_inputs
from .graph import SubgraphView
from .operation import NormalizedOperation
from .optimize import merge_siblings
from .plan import Condition, Fetch, Flatten, Parallel, PlanNode, in_sequence


def drop_empty_groups(groups: dict[int, FetchGroup]) -> dict[int, FetchGroup]:
    """Remove groups that fetch nothing, handing their dependencies to their dependants."""
    groups = dict(groups)
    for group_id in sorted(groups):
        group = groups[group_id]
        if group.selection:
            continue
        del groups[group_id]
        for other in groups.values():
            if group_id in other.deps:
                other.deps.discard(group_id)
                other.deps |= group.deps
    return groups


def fetch_node(group: FetchGroup, operation: NormalizedOperation, view: SubgraphView) -> Fetch:
    variables = sorted(v for v in group.variables if v in operation.variable_definitions)
    definitions = [operation.variable_definitions[v] for v in variables]
    if group.is_entity:
        definitions.insert(0, "$representations: [_Any!]!")
        body = "{_entities(representations: $representations) " + group.selection.print() + "}"
    else:
        body = group.selection.print()
    kind = group.root_kind
    name = ""
    if operation.name:
        name = f"{operation.name}__{group.subgraph}__{group.id}"
    head = kind
    if name:
        head += f" {name}"
    if definitions:
        head += "(" + ", ".join(definitions) + ")"
    return Fetch(
        service_name=group.subgraph,
        operation=f"{head} {body}",
        operation_kind=kind,  # type: ignore[arg-type]
        variable_usages=tuple(variables),
        requires=freeze_inputs(group, view) if group.is_entity else (),
        output_rewrites=tuple(group.renames),
        id=group.id,
    )


def _wrap_conditions(node: PlanNode, conditions: frozenset[str]) -> PlanNode:
    for condition in sorted(conditions):
        variable = condition.split("$", 1)[1].rstrip(")")
        if condition.startswith("@include"):
            node = Condition(condition=variable, if_clause=node, else_clause=None)
        else:
            node = Condition(condition=variable, if_clause=None, else_clause=node)
    return node


def build_plan_node(
    groups: dict[int, FetchGroup], operation: NormalizedOperation, view: SubgraphView
) -> PlanNode | None:
    groups = merge_siblings(drop_empty_groups(groups))
    if not groups:
        return None
    children: dict[int, list[int]] = {g: [] for g in groups}
    for group in groups.values():
        for dep in group.deps:
            if dep in children:
                children[dep].append(group.id)
    done: set[int] = set()

    def node_for(group: FetchGroup) -> PlanNode:
        fetch: PlanNode = fetch_node(group, operation, view)
        if group.is_entity:
            fetch = Flatten(path=group.merge_at, node=fetch)
        return _wrap_conditions(fetch, group.conditions)

    present = set(groups)

    def subtree(group_id: int, available: frozenset[int]) -> PlanNode:
        # `available`: groups certain to have finished before this one starts
        done.add(group_id)
        own = node_for(groups[group_id])
        available = available | {group_id}
        exclusive = [
            c for c in children[group_id]
            if c not in done and groups[c].deps & present <= available
        ]
        done.update(exclusive)
        if not exclusive:
            return own
        parts = [subtree(c, available) for c in exclusive]
        return in_sequence([own, parts[0] if len(parts) == 1 else Parallel(nodes=tuple(parts))])

    stages: list[PlanNode] = []
    while len(done) < len(groups):
        completed = frozenset(done)
        ready = [g for g in groups if g not in done and groups[g].deps & present <= completed]
        if not ready:  # pragma: no cover - the builder only adds edges to earlier groups
            raise RuntimeError("cycle in the fetch dependency graph")
        done.update(ready)
        parts = [subtree(g, completed) for g in ready]
        stages.append(parts[0] if len(parts) == 1 else Parallel(nodes=tuple(parts)))
    return in_sequence(stages)
