"""The supergraph model: every type and field with the subgraphs that know it (join__* resolved)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NewType

ServiceName = NewType("ServiceName", str)
FieldSet = NewType("FieldSet", str)

TypeKind = Literal["object", "interface", "union", "enum", "input", "scalar"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Subgraph:
    name: ServiceName
    enum_value: str  # the join__Graph value naming it in the supergraph SDL
    url: str


@dataclass(frozen=True, kw_only=True, slots=True)
class JoinType:
    """One `@join__type`: how a subgraph knows a type (and, for entities, by which key)."""

    graph: ServiceName
    key: FieldSet | None = None
    extension: bool = False
    resolvable: bool = True
    is_interface_object: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class JoinField:
    """One `@join__field`: how a subgraph knows a field."""

    graph: ServiceName
    requires: FieldSet | None = None
    provides: FieldSet | None = None
    type: str | None = None
    external: bool = False
    override: str | None = None
    override_label: str | None = None
    used_overridden: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldDef:
    name: str
    type: str  # printed supergraph type, e.g. "[Review!]!"
    named_type: str
    joins: dict[ServiceName, JoinField]  # by subgraph; empty when the type's subgraphs all have it
    inaccessible: bool = False
    no_graph: bool = False  # `@join__field` without graph: resolved only through an @interfaceObject


@dataclass(frozen=True, kw_only=True, slots=True)
class TypeDef:
    name: str
    kind: TypeKind
    joins: dict[ServiceName, tuple[JoinType, ...]]  # every @join__type, by subgraph
    fields: dict[str, FieldDef] = field(default_factory=dict)
    implements: dict[ServiceName, frozenset[str]] = field(default_factory=dict)
    interfaces: frozenset[str] = frozenset()  # in the supergraph
    members: dict[ServiceName, frozenset[str]] = field(default_factory=dict)  # unions
    values: frozenset[str] = frozenset()  # enums, @inaccessible values included
    inaccessible: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Supergraph:
    sdl: str
    subgraphs: dict[ServiceName, Subgraph]
    types: dict[str, TypeDef]
    root_types: dict[str, str]  # operation kind -> type name
    possible_types: dict[str, frozenset[str]]  # abstract type -> object types (supergraph)
    join_version: tuple[int, int] = (0, 3)
