"""Response shaping: the merged subgraph data walked along the client operation.

Emits only requested keys in request order, evaluates @skip/@include with the request's
variables, matches fragments by `__typename`, and bubbles nulls out of non-null positions.
Field lists are compiled once per (selection set, runtime type) and reused across requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
)

from ..planner.operation import CField, CSelection

_BUBBLE = object()  # a null that must propagate to the nearest nullable parent


@dataclass(slots=True)
class _Field:
    response_name: str
    field_name: str
    parent_type: str
    type: GraphQLType | None  # None for __typename
    conditions: tuple[tuple[bool, str], ...]  # (is_include, variable)
    selections: list[CSelection]


def _parse_condition(text: str) -> tuple[bool, str]:
    return text.startswith("@include"), text.split("$", 1)[1].rstrip(")")


class Shaper:
    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self._plans: dict[tuple[int, str], list[_Field]] = {}

    def _fields(self, selections: list[CSelection], type_name: str) -> list[_Field]:
        key = (id(selections), type_name)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._compile(selections, type_name)
            self._plans[key] = plan
        return plan

    def _compile(self, selections: list[CSelection], type_name: str) -> list[_Field]:
        parent = self.schema.get_type(type_name)
        fields_def = getattr(parent, "fields", {}) if parent is not None else {}
        out: list[_Field] = []

        def walk(items: list[CSelection], conditions: tuple[tuple[bool, str], ...]) -> None:
            for item in items:
                own = conditions + tuple(_parse_condition(c) for c in item.conditions)
                if isinstance(item, CField):
                    field_def = fields_def.get(item.name)
                    out.append(
                        _Field(
                            response_name=item.response_name,
                            field_name=item.name,
                            parent_type=type_name,
                            type=field_def.type if field_def is not None else None,
                            conditions=own,
                            selections=item.selections,
                        )
                    )
                elif self._applies(item.type_condition, type_name):
                    walk(item.selections, own)

        walk(selections, ())
        return out

    def _applies(self, type_condition: str | None, type_name: str) -> bool:
        if type_condition is None or type_condition == type_name:
            return True
        condition = self.schema.get_type(type_condition)
        runtime = self.schema.get_type(type_name)
        return bool(
            condition is not None
            and runtime is not None
            and is_abstract_type(condition)
            and isinstance(runtime, GraphQLObjectType)
            and self.schema.is_sub_type(condition, runtime)  # type: ignore[arg-type]
        )

    def shape_root(
        self,
        selections: list[CSelection],
        root_type: str,
        data: dict[str, Any] | None,
        variables: dict[str, Any],
        errors: list[dict[str, Any]],
    ) -> dict[str, Any] | None:
        result = self._object(selections, root_type, data or {}, variables, (), errors)
        return None if result is _BUBBLE else result  # type: ignore[return-value]

    def _object(
        self,
        selections: list[CSelection],
        type_name: str,
        data: dict[str, Any],
        variables: dict[str, Any],
        path: tuple[str | int, ...],
        errors: list[dict[str, Any]],
    ) -> Any:
        out: dict[str, Any] = {}
        merged: dict[str, list[_Field]] = {}
        for f in self._fields(selections, type_name):
            if f.conditions and not all(
                bool(variables.get(var)) == is_include for is_include, var in f.conditions
            ):
                continue
            merged.setdefault(f.response_name, []).append(f)
        for response_name, fields in merged.items():
            first = fields[0]
            if first.field_name == "__typename":
                out[response_name] = type_name
                continue
            if first.type is None:
                # introspection fields come answered by graphql-core; anything else is unknown
                out[response_name] = data.get(response_name) if first.field_name in ("__schema", "__type") else None
                continue
            if len(fields) == 1:
                sub = first.selections
            else:
                sub = [s for f in fields for s in f.selections]
                sub = self._interned(sub)
            value = self._complete(
                first.type, data.get(response_name), sub, variables, path + (response_name,), errors,
                first,
            )
            if value is _BUBBLE:
                return _BUBBLE
            out[response_name] = value
        return out

    @staticmethod
    def _unbubble(result: Any) -> Any:
        return None if result is _BUBBLE else result

    def _interned(self, sub: list[CSelection]) -> list[CSelection]:
        # merged selection lists are rebuilt per request; intern them so compiled plans are reused
        key = tuple(id(s) for s in sub)
        cache = self.__dict__.setdefault("_interned_lists", {})
        found = cache.get(key)
        if found is None:
            cache[key] = found = sub
        return found  # type: ignore[no-any-return]

    def _complete(
        self,
        field_type: GraphQLType,
        value: Any,
        selections: list[CSelection],
        variables: dict[str, Any],
        path: tuple[str | int, ...],
        errors: list[dict[str, Any]],
        field: _Field,
    ) -> Any:
        if isinstance(field_type, GraphQLNonNull):
            result = self._complete(field_type.of_type, value, selections, variables, path, errors, field)
            if result is None:
                if not any(_under(e.get("path"), path) for e in errors):
                    errors.append(
                        {
                            "message": f"Cannot return null for non-nullable field "
                            f"{field.parent_type}.{field.field_name}.",
                            "path": list(path),
                        }
                    )
                return _BUBBLE
            return result
        if value is None:
            return None
        if isinstance(field_type, GraphQLList):
            if not isinstance(value, list):
                return None
            items = []
            inner = field_type.of_type
            for index, item in enumerate(value):
                completed = self._complete(inner, item, selections, variables, path + (index,), errors, field)
                if completed is _BUBBLE:
                    return _BUBBLE if isinstance(inner, GraphQLNonNull) else None
                items.append(completed)
            return items
        if is_leaf_type(field_type):
            return value
        if not isinstance(value, dict):
            return None
        named = get_named_type(field_type)
        type_name = named.name
        if is_abstract_type(named):
            runtime = value.get("__typename")
            runtime_type = self.schema.get_type(runtime) if isinstance(runtime, str) else None
            if runtime == named.name:
                # an @interfaceObject answered and nothing needed the concrete type
                return self._unbubble(self._object(selections, runtime, value, variables, path, errors))
            if not isinstance(runtime_type, GraphQLObjectType) or not self.schema.is_sub_type(
                named, runtime_type  # type: ignore[arg-type]
            ):
                return None
            type_name = runtime
        result = self._object(selections, type_name, value, variables, path, errors)
        return None if result is _BUBBLE else result


def _under(error_path: Any, path: tuple[str | int, ...]) -> bool:
    if not isinstance(error_path, list):
        return False
    n = min(len(error_path), len(path))
    return tuple(error_path[:n]) == path[:n]
