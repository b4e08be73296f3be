"""Merge entity fetches to one subgraph at one path: fewer subgraph calls for the same data.

The merged fetch waits for the union of both dependencies, so a group is only folded into
another when neither depends on the other (which would create a cycle).
"""

from __future__ import annotations

from ..fetch_graph import FetchGroup
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
        if other is not None and _trees_clash(other, tree):
            return True
    return False


def _trees_clash(a: dict, b: dict) -> bool:  # type: ignore[type-arg]
    for name, (src, sub, _) in b.items():
        entry = a.get(name)
        if entry is None:
            continue
        if entry[0] != src:
            return True
        if sub is not None and entry[1] is not None and _trees_clash(entry[1], sub):
            return True
    return False


def _fold(groups: dict[int, FetchGroup], *, keep: FetchGroup, fold: FetchGroup) -> None:
    merge_selection(keep.selection, fold.selection)
    for key, tree in fold.inputs.items():
        target = keep.inputs.setdefault(key, {})
        _merge_tree(target, tree)
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


def _merge_tree(target: dict, source: dict) -> None:  # type: ignore[type-arg]
    for name, (src, sub, is_key) in source.items():
        entry = target.get(name)
        if entry is None:
            target[name] = [src, None if sub is None else {}, is_key]
            entry = target[name]
            if sub is not None:
                _merge_tree(entry[1], sub)
            continue
        entry[2] = entry[2] or is_key
        if sub is not None:
            if entry[1] is None:
                entry[1] = {}
            _merge_tree(entry[1], sub)
