"""Merge entity fetches to one subgraph at one path: fewer subgraph calls for the same data.

The merged fetch waits for the union of both dependencies, so a group is only folded into
another when neither depends on the other (which would create a cycle).
"""

from __future__ import annotations

from ..fetch_graph import FetchGroup, input_trees_clash, merge_input_trees
from ..selection import merge_selection


def _ancestors(group_id: int, groups: dict[int, FetchGroup]) -> set[int]:
    seen: set[int] = set()
    stack = list(groups[group_id].deps)
    while stack:
        current = stack.pop()
        if current in seen or current not in groups:
            continue
        seen.add(current)
        stack.extend(groups[current].deps)
    return seen


def merge_siblings(groups: dict[int, FetchGroup]) -> dict[int, FetchGroup]:
    groups = dict(groups)
    changed = True
    while changed:
        changed = False
        by_place: dict[tuple[object, ...], list[int]] = {}
        for group in groups.values():
            if group.is_entity:
                by_place.setdefault((group.subgraph, group.merge_at, group.root_kind), []).append(group.id)
        for ids in by_place.values():
            if len(ids) < 2:
                continue
            for keep in ids:
                for fold in ids:
                    if keep == fold or keep not in groups or fold not in groups:
                        continue
                    if fold in _ancestors(keep, groups) or keep in _ancestors(fold, groups):
                        continue
                    if _inputs_clash(groups[keep], groups[fold]):
                        continue  # the same field read from two places cannot share a representation
                    _fold(groups, keep=groups[keep], fold=groups.pop(fold))
                    changed = True
    return groups


def _inputs_clash(keep: FetchGroup, fold: FetchGroup) -> bool:
    for key, tree in fold.inputs.items():
        other = keep.inputs.get(key)
        if other is not None and input_trees_clash(other, tree):
            return True
    return False


def _fold(groups: dict[int, FetchGroup], *, keep: FetchGroup, fold: FetchGroup) -> None:
    merge_selection(keep.selection, fold.selection)
    for key, tree in fold.inputs.items():
        merge_input_trees(keep.inputs.setdefault(key, {}), tree)
    keep.deps |= fold.deps
    keep.deps.discard(keep.id)
    keep.conditions &= fold.conditions
    keep.variables |= fold.variables
    keep.renames.extend(fold.renames)
    for other in groups.values():
        if fold.id in other.deps:
            other.deps.discard(fold.id)
            if other.id != keep.id:
                other.deps.add(keep.id)
