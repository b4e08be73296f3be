"""Response shaping compiled to Python: one generated function per (selection set, runtime type).

The interpretive `Shaper` walks entries per field; this module turns the same entries into
straight-line code (dict gets and sets, list loops), which is where a gateway spends most of
its CPU on large responses. Semantics are the `Shaper`'s: request order, @skip/@include,
fragments by `__typename`, null bubbling to the nearest nullable parent. Entries whose
conditions differ between occurrences go back to the `Shaper`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema

from ..planner.operation import CSelection
from .shape import (
    _ABSTRACT,
    _BUBBLE,
    _LEAF,
    _LIST,
    _NON_NULL,
    _PASSTHROUGH,
    _TYPENAME,
    _UNKNOWN,
    LinkedPath,
    Shaper,
    _Entry,
    _materialize,
    enum_error,
    explained,
    null_error,
    reorder,
)

ShapeFunction = Callable[[dict[str, Any], dict[str, Any], LinkedPath, list[dict[str, Any]]], Any]


def _null_error(errors: list[dict[str, Any]], path: LinkedPath, coordinate: str) -> object:
    concrete = _materialize(path)
    if not explained(errors, concrete):
        errors.append(null_error(coordinate, concrete))
    return _BUBBLE


class CompiledShaper:
    def __init__(
        self, schema: GraphQLSchema, hidden_enum_values: dict[str, frozenset[str]] | None = None
    ) -> None:
        self.schema = schema
        self.fallback = Shaper(schema, hidden_enum_values)
        self._functions: dict[tuple[int, str], ShapeFunction] = {}
        self._keep: list[object] = []  # selection lists must outlive the id() keys above

    def shape_root(
        self,
        selections: list[CSelection],
        root_type: str,
        data: dict[str, Any] | None,
        variables: dict[str, Any],
        errors: list[dict[str, Any]],
    ) -> dict[str, Any] | None:
        result = self.function(selections, root_type)(data or {}, variables, None, errors)
        return None if result is _BUBBLE else result

    def function(self, selections: list[CSelection], type_name: str) -> ShapeFunction:
        key = (id(selections), type_name)
        found = self._functions.get(key)
        if found is None:
            self._keep.append(selections)
            found = self._compile(selections, type_name)
            self._functions[key] = found
        return found

    def _dispatch(self, selections: list[CSelection], abstract: str) -> dict[str, ShapeFunction]:
        possible = [
            t.name
            for t in self.schema.type_map.values()
            if isinstance(t, GraphQLObjectType)
            and self.schema.is_sub_type(self.schema.get_type(abstract), t)  # type: ignore[arg-type]
        ]
        table = {name: self.function(selections, name) for name in possible}
        table[abstract] = self.function(selections, abstract)  # @interfaceObject answers
        return table

    def _compile(self, selections: list[CSelection], type_name: str) -> ShapeFunction:
        entries = self.fallback._entries(selections, type_name)
        env: dict[str, Any] = {
            "BUBBLE": _BUBBLE,
            "null_error": _null_error,
            "fallback": self._fallback_entry,
            "enum_error": enum_error,
        }
        lines = ["def shape(data, variables, path, errors):", "    out = {}"]
        for index, entry in enumerate(entries):
            lines.extend(self._entry_lines(index, entry, type_name, env))
        order = self.fallback.response_order(selections, type_name)
        if order is None:
            lines.append("    return out")
        else:
            env["order"], env["reorder"] = order, reorder
            lines.append("    return reorder(out, order, variables)")
        exec("\n".join(lines), env)  # noqa: S102 - generated from our own compiled entries
        return env["shape"]  # type: ignore[no-any-return]

    def _fallback_entry(
        self,
        entry: _Entry,
        type_name: str,
        data: dict[str, Any],
        variables: dict[str, Any],
        path: LinkedPath,
        errors: list[dict[str, Any]],
        out: dict[str, Any],
    ) -> bool:
        """One conditional entry through the interpretive shaper; False when it bubbled."""
        active = [
            sel for conds, sel in entry.occurrences
            if all(bool(variables.get(var)) == inc for inc, var in conds)
        ]
        if not active:
            return True
        name = entry.response_name
        if entry.kind == _TYPENAME:
            out[name] = type_name
            return True
        if entry.kind in (_PASSTHROUGH,):
            out[name] = data.get(name)
            return True
        if entry.kind == _UNKNOWN:
            out[name] = None
            return True
        value = self.fallback._complete(
            entry, 0, data.get(name), self.fallback._merge(active), variables, (path, name), errors
        )
        if value is _BUBBLE:
            return False
        out[name] = value
        return True

    def _entry_lines(self, index: int, entry: _Entry, type_name: str, env: dict[str, Any]) -> list[str]:
        name = entry.response_name
        key = repr(name)
        if entry.conditions:
            env[f"entry{index}"] = entry
            return [
                f"    if not fallback(entry{index}, {type_name!r}, data, variables, path, errors, out):",
                "        return BUBBLE",
            ]
        if entry.kind == _TYPENAME:
            return [f"    out[{key}] = {type_name!r}"]
        if entry.kind == _PASSTHROUGH:
            return [f"    out[{key}] = data.get({key})"]
        if entry.kind == _UNKNOWN:
            return [f"    out[{key}] = None"]
        coordinate = f"{entry.parent_type}.{entry.field_name}"
        env[f"coord{index}"] = coordinate
        if entry.kind == _LEAF and not entry.wrappers and entry.enum_values is None:
            return [f"    out[{key}] = data.get({key})"]
        lines = [f"    v{index} = data.get({key})"]
        path_expr = f"(path, {key})"
        lines += self._complete_lines(
            index, entry, 0, f"v{index}", f"out[{key}]", path_expr, "    ", env, top=True
        )
        return lines

    def _complete_lines(
        self,
        index: int,
        entry: _Entry,
        level: int,
        value: str,
        target: str,
        path_expr: str,
        pad: str,
        env: dict[str, Any],
        *,
        top: bool,
    ) -> list[str]:
        """Code assigning the completed `value` to `target`; on a bubbling null it either
        returns BUBBLE (at the top level) or sets `target` to BUBBLE for the caller to test."""
        wrappers = entry.wrappers
        fail = "return BUBBLE" if top else f"{target} = BUBBLE"
        non_null = level < len(wrappers) and wrappers[level] == _NON_NULL
        if non_null:
            level += 1
        lines: list[str] = []
        null_branch = (
            [f"{pad}    null_error(errors, {path_expr}, coord{index})", f"{pad}    {fail}"]
            if non_null
            else [f"{pad}    {target} = None"]
        )
        lines.append(f"{pad}if {value} is None:")
        lines += null_branch
        if level < len(wrappers):  # list
            assert wrappers[level] == _LIST
            depth = f"{index}_{level}"
            lines.append(f"{pad}elif type({value}) is list:")
            lines.append(f"{pad}    items{depth} = []")
            lines.append(f"{pad}    for i{depth}, x{depth} in enumerate({value}):")
            inner_pad = pad + "        "
            lines += self._complete_lines(
                index, entry, level + 1, f"x{depth}", f"r{depth}",
                f"({path_expr}, i{depth})", inner_pad, env, top=False,
            )
            lines.append(f"{inner_pad}if r{depth} is BUBBLE:")
            inner_non_null = level + 1 < len(wrappers) and wrappers[level + 1] == _NON_NULL
            if inner_non_null:
                lines.append(f"{inner_pad}    items{depth} = BUBBLE")
                lines.append(f"{inner_pad}    break")
            else:
                lines.append(f"{inner_pad}    items{depth} = None")
                lines.append(f"{inner_pad}    break")
            lines.append(f"{inner_pad}items{depth}.append(r{depth})")
            if non_null:
                lines.append(f"{pad}    if items{depth} is None or items{depth} is BUBBLE:")
                lines.append(f"{pad}        null_error(errors, {path_expr}, coord{index})")
                lines.append(f"{pad}        {fail}")
                lines.append(f"{pad}    else:")
                lines.append(f"{pad}        {target} = items{depth}")
            else:
                lines.append(f"{pad}    {target} = None if items{depth} is BUBBLE else items{depth}")
            lines.append(f"{pad}else:")
            lines += self._null_or_fail(non_null, index, target, path_expr, pad + "    ", fail)
            return lines
        if entry.kind == _LEAF:
            lines.append(f"{pad}else:")
            if entry.enum_values is None:
                lines.append(f"{pad}    {target} = {value}")
                return lines
            env[f"enum{index}"] = entry.enum_values
            lines.append(f"{pad}    if {value} in enum{index}:")
            lines.append(f"{pad}        {target} = {value}")
            env[f"hidden{index}"] = entry.enum_hidden
            lines.append(f"{pad}    else:")
            lines.append(f"{pad}        if {value} not in hidden{index}:")
            lines.append(f"{pad}            enum_error(errors, {path_expr}, {entry.named.name!r}, {value})")
            lines += self._null_or_fail(non_null, index, target, path_expr, pad + "        ", fail)
            return lines
        # composite
        lines.append(f"{pad}elif type({value}) is dict:")
        if entry.kind == _ABSTRACT:
            table = f"dispatch{index}"
            if table not in env:
                env[table] = _LazyDispatch(self, entry.selections, entry.named.name)
            lines.append(f"{pad}    fn = {table}.get({value}.get('__typename'))")
            lines.append(f"{pad}    c = BUBBLE if fn is None else fn({value}, variables, {path_expr}, errors)")
            lines.append(f"{pad}    if fn is None: c = None")
        else:
            fn = f"child{index}"
            if fn not in env:
                env[fn] = _LazyFunction(self, entry.selections, entry.named.name)
            lines.append(f"{pad}    c = {fn}({value}, variables, {path_expr}, errors)")
        lines.append(f"{pad}    if c is None or c is BUBBLE:")
        lines += self._null_or_fail(non_null, index, target, path_expr, pad + "        ", fail)
        lines.append(f"{pad}    else:")
        lines.append(f"{pad}        {target} = c")
        lines.append(f"{pad}else:")
        lines += self._null_or_fail(non_null, index, target, path_expr, pad + "    ", fail)
        return lines

    @staticmethod
    def _null_or_fail(non_null: bool, index: int, target: str, path_expr: str, pad: str, fail: str) -> list[str]:
        if non_null:
            return [f"{pad}null_error(errors, {path_expr}, coord{index})", f"{pad}{fail}"]
        return [f"{pad}{target} = None"]


class _LazyFunction:
    """Compiles the child shaper on first use (operations may never reach some branches)."""

    __slots__ = ("fn", "selections", "shaper", "type_name")

    def __init__(self, shaper: CompiledShaper, selections: list[CSelection], type_name: str) -> None:
        self.shaper, self.selections, self.type_name = shaper, selections, type_name
        self.fn: ShapeFunction | None = None

    def __call__(self, *args: Any) -> Any:
        fn = self.fn
        if fn is None:
            fn = self.fn = self.shaper.function(self.selections, self.type_name)
        return fn(*args)


class _LazyDispatch:
    __slots__ = ("abstract", "selections", "shaper", "table")

    def __init__(self, shaper: CompiledShaper, selections: list[CSelection], abstract: str) -> None:
        self.shaper, self.selections, self.abstract = shaper, selections, abstract
        self.table: dict[str, ShapeFunction] | None = None

    def get(self, typename: Any) -> ShapeFunction | None:
        table = self.table
        if table is None:
            table = self.table = self.shaper._dispatch(self.selections, self.abstract)
        return table.get(typename) if isinstance(typename, str) else None
