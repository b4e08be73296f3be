"""In-place merging of subgraph results and walking of Flatten paths."""

from __future__ import annotations

from typing import Any

Path = tuple[str | int, ...]


def deep_merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        current = target.get(key)
        if current is None:
            if value is not None or key not in target:
                target[key] = value
        elif value is None:
            continue  # never erase data another subgraph already gave
        elif type(value) is dict and type(current) is dict:
            if current is not value:
                deep_merge(current, value)
        elif type(value) is list and type(current) is list:
            if current is not value:
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


def collect_objects(data: Any, path: tuple[str, ...]) -> list[dict[str, Any]]:
    """The objects at `path`, level by level; the fast twin of `collect_targets` (no paths)."""
    current: list[Any] = [data]
    for step in path:
        following: list[Any] = []
        if step == "@":
            for value in current:
                if type(value) is list:
                    following.extend(value)
        else:
            for value in current:
                if type(value) is dict:
                    child = value.get(step)
                    if child is not None:
                        following.append(child)
        current = following
    return _flatten_objects(current)


def _flatten_objects(values: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for value in values:
        if type(value) is dict:
            out.append(value)
        elif type(value) is list:
            out.extend(_flatten_objects(value))
    return out


def rename_keys(data: dict[str, Any], rewrites: tuple[tuple[tuple[str, ...], str, str], ...]) -> None:
    """Undo reserved aliases: at each path, move `alias` back to its response name."""
    for path, alias, name in rewrites:
        for obj in collect_objects(data, path):
            if alias in obj:
                obj[name] = obj.pop(alias)
