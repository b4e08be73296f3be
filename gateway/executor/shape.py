"""Response shaping: the merged subgraph data walked along the client operation.

Emits only requested keys in request order, evaluates @skip/@include with the request's
variables, matches fragments by `__typename`, and bubbles nulls out of non-null positions.
Each (selection set, runtime type) compiles once into a flat list of entries reused by every
request, so per-request work is proportional to the response, not to the schema.
"""

from __future__ import annotations

import itertools
from typing import Any

import orjson
from graphql import (
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    GraphQLUnionType,
    is_abstract_type,
    is_leaf_type,
)

from ..planner.operation import CField, CSelection
from .errors import RESPONSE_VALIDATION_FAILED

_BUBBLE = object()  # a null that must propagate to the nearest nullable parent

# entry kinds
_TYPENAME, _LEAF, _OBJECT, _ABSTRACT, _PASSTHROUGH, _UNKNOWN = range(6)
# wrapper codes, outermost first
_NON_NULL, _LIST = 1, 2

LinkedPath = tuple[Any, str | int] | None


def _materialize(path: LinkedPath) -> list[str | int]:
    out: list[str | int] = []
    while path is not None:
        path, key = path
        out.append(key)
    out.reverse()
    return out


class _Entry:
    __slots__ = (
        "conditions",
        "enum_hidden",
        "enum_values",
        "field_name",
        "kind",
        "named",
        "occurrences",
        "parent_type",
        "response_name",
        "selections",
        "wrappers",
    )

    response_name: str
    field_name: str
    parent_type: str
    kind: int
    wrappers: tuple[int, ...]
    named: Any
    conditions: bool
    selections: list[CSelection]

    def __init__(self) -> None:
        self.enum_values: frozenset[str] | None = None
        self.enum_hidden: frozenset[str] = frozenset()
        self.occurrences: list[tuple[tuple[tuple[bool, str], ...], list[CSelection]]] = []


def _parse_condition(text: str) -> tuple[bool, str]:
    return text.startswith("@include"), text.split("$", 1)[1].rstrip(")")


def _wrappers(field_type: GraphQLType) -> tuple[tuple[int, ...], Any]:
    codes: list[int] = []
    while True:
        if isinstance(field_type, GraphQLNonNull):
            codes.append(_NON_NULL)
        elif isinstance(field_type, GraphQLList):
            codes.append(_LIST)
        else:
            return tuple(codes), field_type
        field_type = field_type.of_type


class Shaper:
    def __init__(
        self, schema: GraphQLSchema, hidden_enum_values: dict[str, frozenset[str]] | None = None
    ) -> None:
        self.schema = schema
        # values the supergraph has but the API hides (@inaccessible): nulled without an error,
        # as Apollo does; values nobody declared are a subgraph bug and get an error
        self.hidden_enum_values = hidden_enum_values or {}
        self._compiled: dict[tuple[int, str], list[_Entry]] = {}
        self._orders: dict[tuple[int, str], ResponseOrder | None] = {}
        self._merged: dict[tuple[int, ...], list[CSelection]] = {}
        self._sub_cache: dict[tuple[str, str], bool] = {}

    # -- compiling -----------------------------------------------------------------------------
    def _entries(self, selections: list[CSelection], type_name: str) -> list[_Entry]:
        key = (id(selections), type_name)
        entries = self._compiled.get(key)
        if entries is None:
            entries = self._compile(selections, type_name)
            self._compiled[key] = entries
        return entries

    def _compile(self, selections: list[CSelection], type_name: str) -> list[_Entry]:
        parent = self.schema.get_type(type_name)
        fields_def = getattr(parent, "fields", {}) if parent is not None else {}
        by_name: dict[str, _Entry] = {}
        # (position in field collection, conditions) of every occurrence, per response name
        positions: dict[str, list[tuple[int, Conditions]]] = {}
        counter = itertools.count()

        def walk(items: list[CSelection], conditions: Conditions) -> None:
            for item in items:
                own = conditions + tuple(_parse_condition(c) for c in item.conditions)
                if isinstance(item, CField):
                    entry = by_name.get(item.response_name)
                    if entry is None:
                        entry = by_name[item.response_name] = self._entry(item, type_name, fields_def)
                    entry.occurrences.append((own, item.selections))
                    positions.setdefault(item.response_name, []).append((next(counter), own))
                elif self._applies(item.type_condition, type_name):
                    walk(item.selections, own)

        walk(selections, ())
        for entry in by_name.values():
            unconditional = [sel for conds, sel in entry.occurrences if not conds]
            entry.conditions = len(unconditional) != len(entry.occurrences)
            entry.selections = self._merge([s for _, s in entry.occurrences])
        self._orders[(id(selections), type_name)] = _response_order(positions)
        return list(by_name.values())

    def response_order(self, selections: list[CSelection], type_name: str) -> ResponseOrder | None:
        """How to order keys per request, or None when request order is the entries' order."""
        self._entries(selections, type_name)
        return self._orders[(id(selections), type_name)]

    def _entry(self, item: CField, type_name: str, fields_def: Any) -> _Entry:
        entry = _Entry()
        entry.response_name = item.response_name
        entry.field_name = item.name
        entry.parent_type = type_name
        entry.wrappers = ()
        entry.named = None
        if item.name == "__typename":
            entry.kind = _TYPENAME
            return entry
        field_def = fields_def.get(item.name)
        if field_def is None:
            entry.kind = _PASSTHROUGH if item.name in ("__schema", "__type") else _UNKNOWN
            return entry
        entry.wrappers, named = _wrappers(field_def.type)
        entry.named = named
        if is_leaf_type(named):
            entry.kind = _LEAF
            if isinstance(named, GraphQLEnumType):
                # values a subgraph may return but the API hides (@inaccessible, or missing
                # from the merged enum) must not reach the client
                entry.enum_values = frozenset(named.values)
                entry.enum_hidden = self.hidden_enum_values.get(named.name, frozenset())
        elif is_abstract_type(named):
            entry.kind = _ABSTRACT
        else:
            entry.kind = _OBJECT
        return entry

    def _merge(self, lists: list[list[CSelection]]) -> list[CSelection]:
        if len(lists) == 1:
            return lists[0]
        key = tuple(id(s) for s in lists)
        merged = self._merged.get(key)
        if merged is None:
            merged = self._merged[key] = [s for sel in lists for s in sel]
        return merged

    def _applies(self, type_condition: str | None, type_name: str) -> bool:
        if type_condition is None or type_condition == type_name:
            return True
        return self._is_sub(type_condition, type_name)

    def _is_sub(self, abstract: str, type_name: str) -> bool:
        key = (abstract, type_name)
        found = self._sub_cache.get(key)
        if found is None:
            condition = self.schema.get_type(abstract)
            runtime = self.schema.get_type(type_name)
            found = bool(
                condition is not None
                and isinstance(runtime, GraphQLObjectType)
                and isinstance(condition, (GraphQLInterfaceType, GraphQLUnionType))
                and self.schema.is_sub_type(condition, runtime)
            )
            self._sub_cache[key] = found
        return found

    # -- shaping -------------------------------------------------------------------------------
    def shape_root(
        self,
        selections: list[CSelection],
        root_type: str,
        data: dict[str, Any] | None,
        variables: dict[str, Any],
        errors: list[dict[str, Any]],
    ) -> dict[str, Any] | None:
        result = self._object(selections, root_type, data or {}, variables, None, errors)
        return None if result is _BUBBLE else result

    def _object(
        self,
        selections: list[CSelection],
        type_name: str,
        data: dict[str, Any],
        variables: dict[str, Any],
        path: LinkedPath,
        errors: list[dict[str, Any]],
    ) -> Any:
        out: dict[str, Any] = {}
        for entry in self._entries(selections, type_name):
            selections_here = entry.selections
            if entry.conditions:
                active = [
                    sel for conds, sel in entry.occurrences
                    if all(bool(variables.get(var)) == inc for inc, var in conds)
                ]
                if not active:
                    continue
                selections_here = self._merge(active)
            kind = entry.kind
            name = entry.response_name
            if kind == _TYPENAME:
                out[name] = type_name
                continue
            value = data.get(name)
            if kind == _LEAF and not entry.wrappers and entry.enum_values is None:
                out[name] = value
                continue
            if kind == _PASSTHROUGH:
                out[name] = value
                continue
            if kind == _UNKNOWN:
                out[name] = None
                continue
            completed = self._complete(
                entry, 0, value, selections_here, variables, (path, name), errors
            )
            if completed is _BUBBLE:
                return _BUBBLE
            out[name] = completed
        order = self._orders.get((id(selections), type_name))
        return out if order is None else reorder(out, order, variables)

    def _complete(
        self,
        entry: _Entry,
        level: int,
        value: Any,
        selections: list[CSelection],
        variables: dict[str, Any],
        path: LinkedPath,
        errors: list[dict[str, Any]],
    ) -> Any:
        wrappers = entry.wrappers
        if level < len(wrappers) and wrappers[level] == _NON_NULL:
            result = self._complete(entry, level + 1, value, selections, variables, path, errors)
            if result is None:
                concrete = _materialize(path)
                if not explained(errors, concrete):
                    errors.append(null_error(f"{entry.parent_type}.{entry.field_name}", concrete))
                return _BUBBLE
            return result
        if value is None:
            return None
        if level < len(wrappers):  # a list
            if not isinstance(value, list):
                return None
            inner_non_null = level + 1 < len(wrappers) and wrappers[level + 1] == _NON_NULL
            items = []
            for index, item in enumerate(value):
                completed = self._complete(
                    entry, level + 1, item, selections, variables, (path, index), errors
                )
                if completed is _BUBBLE:
                    return _BUBBLE if inner_non_null else None
                items.append(completed)
            return items
        kind = entry.kind
        if kind == _LEAF:
            if entry.enum_values is not None and value not in entry.enum_values:
                if value not in entry.enum_hidden:
                    enum_error(errors, path, entry.named.name, value)
                return None
            return value
        if not isinstance(value, dict):
            return None
        type_name = entry.named.name
        if kind == _ABSTRACT:
            runtime = value.get("__typename")
            if runtime != type_name:  # == : an @interfaceObject answered; its own fields apply
                if not isinstance(runtime, str) or not self._is_sub(type_name, runtime):
                    return None
                type_name = runtime
        result = self._object(selections, type_name, value, variables, path, errors)
        return None if result is _BUBBLE else result


Conditions = tuple[tuple[bool, str], ...]  # (is @include, variable name)
# per response name, its occurrences' (collection position, conditions), in collection order
ResponseOrder = tuple[tuple[str, tuple[tuple[int, Conditions], ...]], ...]


def _response_order(positions: dict[str, list[tuple[int, Conditions]]]) -> ResponseOrder | None:
    # a response key sits where its first *included* occurrence is (CollectFields runs after
    # @skip/@include), so only a conditional first occurrence with later ones can move it
    if not any(len(seen) > 1 and seen[0][1] for seen in positions.values()):
        return None
    return tuple((name, tuple(seen)) for name, seen in positions.items())


def reorder(out: dict[str, Any], order: ResponseOrder, variables: dict[str, Any]) -> dict[str, Any]:
    """`out`'s keys in the order their first included occurrences have."""
    first: dict[str, int] = {}
    for name, seen in order:
        if name in out:
            first[name] = next(
                (
                    index for index, conds in seen
                    if all(bool(variables.get(var)) == inc for inc, var in conds)
                ),
                seen[0][0],
            )
    return {name: out[name] for name in sorted(out, key=first.__getitem__)}


def null_error(coordinate: str, path: list[str | int]) -> dict[str, Any]:
    return {
        "message": f"Cannot return null for non-nullable field {coordinate}.",
        "path": path,
        "extensions": {"code": RESPONSE_VALIDATION_FAILED},
    }


def enum_error(errors: list[dict[str, Any]], path: LinkedPath, enum: str, value: Any) -> None:
    errors.append(
        {
            "message": f"Enum \"{enum}\" cannot represent value: {orjson.dumps(value).decode()}",
            "path": _materialize(path),
            "extensions": {"code": RESPONSE_VALIDATION_FAILED},
        }
    )


def explained(errors: list[dict[str, Any]], path: list[str | int]) -> bool:
    """Is a null at `path` already accounted for: an error at, above or below it, or a
    subgraph error that names no path (its whole fetch failed)?"""
    for error in errors:
        error_path = error.get("path")
        if error_path is None:
            if "serviceName" in (error.get("extensions") or {}):
                return True
        elif _under(error_path, path):
            return True
    return False


def _under(error_path: Any, path: list[str | int]) -> bool:
    if not isinstance(error_path, list):
        return False
    n = min(len(error_path), len(path))
    return error_path[:n] == path[:n]
