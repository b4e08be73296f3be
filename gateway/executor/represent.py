"""Entity representations: objects projected through a Fetch's `requires`, compiled per fetch.

A compiled projector returns `(dedupe_key, representation)` or None when the object cannot be
represented (wrong `__typename`, a missing field, or a null key field). Flat representations of
scalars dedupe on a tuple; anything nested falls back to sorted-key JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from ..planner.plan import InputField, InputFragment

Projector = Callable[[dict[str, Any]], "tuple[Any, dict[str, Any]] | None"]
_MISSING = object()


def _project(obj: dict[str, Any], fields: tuple[InputField, ...], out: dict[str, Any]) -> bool:
    for f in fields:
        if f.types is not None and obj.get("__typename") not in f.types:
            continue  # a field under a type condition this object does not meet
        value = obj.get(f.source, _MISSING)
        if value is _MISSING:
            return False
        if value is None:
            if f.is_key:
                return False
            out[f.name] = None
        elif f.selections is None:
            out[f.name] = value
        elif type(value) is list:
            items = []
            for item in value:
                if type(item) is dict:
                    projected: dict[str, Any] = {}
                    if not _project(item, f.selections, projected):
                        return False
                    items.append(projected)
                else:
                    items.append(item)
            out[f.name] = items
        elif type(value) is dict:
            projected = {}
            if not _project(value, f.selections, projected):
                return False
            out[f.name] = projected
        else:
            out[f.name] = value
    return True


def _flat(fragment: InputFragment) -> bool:
    return all(f.selections is None and f.types is None for f in fragment.fields)


def compile_projector(requires: tuple[InputFragment, ...]) -> Projector:
    by_type: dict[str, InputFragment] = {}
    for fragment in requires:
        for type_name in fragment.types:
            by_type.setdefault(type_name, fragment)
    if len(requires) == 1 and _flat(requires[0]):
        return _flat_projector(requires[0])
    dumps, sort_keys = orjson.dumps, orjson.OPT_SORT_KEYS

    def project(obj: dict[str, Any]) -> tuple[Any, dict[str, Any]] | None:
        fragment = by_type.get(obj.get("__typename"))  # type: ignore[arg-type]
        if fragment is None:
            return None
        representation: dict[str, Any] = {"__typename": fragment.typename}
        if not _project(obj, fragment.fields, representation):
            return None
        return dumps(representation, option=sort_keys), representation

    return project


def _flat_projector(fragment: InputFragment) -> Projector:
    types = fragment.types
    typename = fragment.typename
    fields = tuple((f.name, f.source, f.is_key) for f in fragment.fields)
    dumps, sort_keys = orjson.dumps, orjson.OPT_SORT_KEYS

    def project(obj: dict[str, Any]) -> tuple[Any, dict[str, Any]] | None:
        if obj.get("__typename") not in types:
            return None
        representation: dict[str, Any] = {"__typename": typename}
        values = []
        for name, source, is_key in fields:
            value = obj.get(source, _MISSING)
            if value is _MISSING or (value is None and is_key):
                return None
            representation[name] = value
            values.append(value)
        key: Any = tuple(values)
        try:
            hash(key)
        except TypeError:  # a list or object value: dedupe on its JSON instead
            key = dumps(representation, option=sort_keys)
        return key, representation

    return project
