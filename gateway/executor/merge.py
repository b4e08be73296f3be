"""In-place merging of subgraph results and walking of Flatten paths."""

from __future__ import annotations

from typing import Any

Path = tuple[str | int, ...]


def deep_merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        current = target.get(key)
        if current is None or value is None:
            if key not in target or value is not None:
                target[key] = value
            continue
        if isinstance(value, dict) and isinstance(current, dict):
            deep_merge(current, value)
        elif isinstance(value, list) and isinstance(current, list):
            merge_lists(current, value)
        else:
            target[key] = value


def merge_lists(target: list[Any], source: list[Any]) -> None:
    for index, (old, new) in enumerate(zip(target, source)):
        if isinstance(old, dict) and isinstance(new, dict):
            deep_merge(old, new)
        elif isinstance(old, list) and isinstance(new, list):
            merge_lists(old, new)
        elif new is not None or old is None:
            target[index] = new


def collect_targets(data: Any, path: tuple[str, ...]) -> list[tuple[dict[str, Any], Path]]:
    """Every object at `path` ("@" walks each list item), with its concrete response path."""
    out: list[tuple[dict[str, Any], Path]] = []
    _collect(data, path, 0, (), out)
    return out


def _collect(value: Any, path: tuple[str, ...], index: int, here: Path, out: list[Any]) -> None:
    if value is None:
        return
    if index == len(path):
        if isinstance(value, dict):
            out.append((value, here))
        elif isinstance(value, list):  # a list the path did not spell out: still each item
            for i, item in enumerate(value):
                _collect(item, path, index, here + (i,), out)
        return
    step = path[index]
    if step == "@":
        if isinstance(value, list):
            for i, item in enumerate(value):
                _collect(item, path, index + 1, here + (i,), out)
        return
    if isinstance(value, dict):
        _collect(value.get(step), path, index + 1, here + (step,), out)
