"""Schema diff of two API schemas (or supergraphs): breaking, dangerous and safe changes, for CI."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_ast_schema,
    parse,
)
from graphql.language import ast
from graphql.utilities import find_breaking_changes, find_dangerous_changes

_SPEC_PREFIXES = ("join__", "link__")
# A built-in scalar "appears" when a schema first uses it; that is not a change anyone made.
_BUILTIN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}
_BUILTIN_DIRECTIVES = {"deprecated", "specifiedBy", "include", "skip", "oneOf"}


class Severity(str, Enum):
    BREAKING = "breaking"
    DANGEROUS = "dangerous"
    SAFE = "safe"


@dataclass(frozen=True, kw_only=True, slots=True)
class SchemaChange:
    severity: Severity
    kind: str  # graphql-core's change type name, or FIELD_ADDED / TYPE_ADDED / ... for safe ones
    description: str


def _inaccessible(node: ast.Node) -> bool:
    return any(d.name.value == "inaccessible" for d in getattr(node, "directives", None) or ())


def _strip(node: ast.Node, keep: set[str], hidden: set[str]) -> ast.Node:
    """Drop @inaccessible children and every non-executable directive application."""
    changes: dict[str, object] = {}
    if getattr(node, "directives", None):
        changes["directives"] = tuple(d for d in node.directives if d.name.value in keep)  # type: ignore[attr-defined]
    for attr in ("fields", "values", "arguments"):
        items = getattr(node, attr, None)
        if items:
            changes[attr] = tuple(_strip(i, keep, hidden) for i in items if not _inaccessible(i))
    for attr in ("types", "interfaces"):
        items = getattr(node, attr, None)
        if items:
            changes[attr] = tuple(i for i in items if i.name.value not in hidden)
    copy = node.__copy__()
    for key, value in changes.items():
        setattr(copy, key, value)
    return copy


def api_schema(sdl: str) -> GraphQLSchema:
    """The client-facing schema: a supergraph loses join/link machinery and @inaccessible parts."""
    document = parse(sdl)
    keep = set(_BUILTIN_DIRECTIVES)
    hidden: set[str] = set()
    definitions: list[ast.DefinitionNode] = []
    for d in document.definitions:
        name = getattr(getattr(d, "name", None), "value", "")
        if isinstance(d, ast.DirectiveDefinitionNode):
            executable = any(
                loc.value.isupper() and loc.value in _EXECUTABLE for loc in d.locations
            )
            if executable and not name.startswith(_SPEC_PREFIXES) and name != "link":
                keep.add(name)
                definitions.append(d)
            continue
        if name.startswith(_SPEC_PREFIXES) or _inaccessible(d):
            hidden.add(name)
            continue
        definitions.append(d)
    stripped = [
        _strip(d, keep, hidden) if not isinstance(d, ast.DirectiveDefinitionNode) else d
        for d in definitions
    ]
    return build_ast_schema(ast.DocumentNode(definitions=tuple(stripped)), assume_valid_sdl=True)


_EXECUTABLE = {
    "QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION", "FRAGMENT_SPREAD",
    "INLINE_FRAGMENT", "VARIABLE_DEFINITION",
}  # fmt: skip


def _safe_changes(old: GraphQLSchema, new: GraphQLSchema) -> list[SchemaChange]:
    changes: list[SchemaChange] = []
    for name, new_type in new.type_map.items():
        if name.startswith("__") or name in _BUILTIN_SCALARS:
            continue
        old_type = old.type_map.get(name)
        if old_type is None:
            changes.append(
                SchemaChange(
                    severity=Severity.SAFE, kind="TYPE_ADDED", description=f"{name} was added."
                )
            )
            continue
        if type(old_type) is not type(new_type):
            continue
        if isinstance(new_type, (GraphQLObjectType, GraphQLInterfaceType)):
            assert isinstance(old_type, (GraphQLObjectType, GraphQLInterfaceType))
            for fname, f in new_type.fields.items():
                old_field = old_type.fields.get(fname)
                if old_field is None:
                    changes.append(
                        SchemaChange(
                            severity=Severity.SAFE,
                            kind="FIELD_ADDED",
                            description=f"{name}.{fname} was added.",
                        )
                    )
                elif old_field.deprecation_reason != f.deprecation_reason:
                    what = "deprecated" if f.deprecation_reason else "un-deprecated"
                    changes.append(
                        SchemaChange(
                            severity=Severity.SAFE,
                            kind="FIELD_DEPRECATION_CHANGED",
                            description=f"{name}.{fname} was {what}.",
                        )
                    )
        if isinstance(new_type, GraphQLEnumType) and isinstance(old_type, GraphQLEnumType):
            for vname, value in new_type.values.items():
                old_value = old_type.values.get(vname)
                if (
                    old_value is not None
                    and old_value.deprecation_reason != value.deprecation_reason
                ):
                    changes.append(
                        SchemaChange(
                            severity=Severity.SAFE,
                            kind="ENUM_VALUE_DEPRECATION_CHANGED",
                            description=f"{name}.{vname} deprecation changed.",
                        )
                    )
        if isinstance(new_type, GraphQLInputObjectType):
            continue  # input additions are graphql-core's dangerous/breaking findings
    return changes


def diff_schemas(old_sdl: str, new_sdl: str) -> list[SchemaChange]:
    """Every change from old to new, breaking first."""
    old, new = api_schema(old_sdl), api_schema(new_sdl)
    changes = [
        SchemaChange(severity=Severity.BREAKING, kind=c.type.name, description=c.description)
        for c in find_breaking_changes(old, new)
    ]
    changes += [
        SchemaChange(severity=Severity.DANGEROUS, kind=c.type.name, description=c.description)
        for c in find_dangerous_changes(old, new)
    ]
    return changes + _safe_changes(old, new)
