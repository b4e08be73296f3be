"""Supergraph SDL -> Supergraph model: reads `@link`/`@core` and resolves every join__* directive."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    TypeNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    parse,
    print_ast,
    value_from_ast_untyped,
)

from .model import (
    FieldDef,
    FieldSet,
    JoinField,
    JoinType,
    ServiceName,
    Subgraph,
    Supergraph,
    TypeDef,
    TypeKind,
)

__all__ = ["Features", "SupergraphError", "parse_supergraph"]


class SupergraphError(ValueError):
    """The SDL is not a supergraph this gateway can serve."""


_APOLLO_SPECS = ("https://specs.apollo.dev/", "http://specs.apollo.dev/")
_FEATURE_URL = re.compile(r"^https?://[^/]+/(?P<name>[A-Za-z0-9_-]+)/v(?P<version>\d+\.\d+)")


@dataclass(frozen=True, kw_only=True, slots=True)
class Features:
    """Names under which the linked specs appear in this SDL (specs can be renamed with `as:`)."""

    join_prefix: str
    join_version: tuple[int, int]
    link_names: frozenset[str]  # directive names of @link / @core themselves
    inaccessible: str | None
    tag: str | None
    spec_prefixes: frozenset[str]  # every linked feature's `name__` prefix (removed from the API)
    spec_directives: frozenset[str]  # directives belonging to linked features


def _args(node: DirectiveNode) -> dict[str, Any]:
    return {arg.name.value: value_from_ast_untyped(arg.value) for arg in node.arguments or ()}


def read_features(document: DocumentNode) -> Features:
    schema_nodes = [d for d in document.definitions if isinstance(d, SchemaDefinitionNode)]
    if not schema_nodes:
        raise SupergraphError("the supergraph has no schema definition with @link or @core")
    join_prefix = None
    join_version = (0, 1)
    link_names: set[str] = set()
    inaccessible = tag = None
    prefixes: set[str] = set()
    directives: set[str] = set()
    for directive in schema_nodes[0].directives or ():
        if directive.name.value not in ("link", "core"):
            continue
        link_names.add(directive.name.value)
        args = _args(directive)
        url = args.get("url") or args.get("feature") or ""
        match = _FEATURE_URL.match(url)
        if not match:
            continue
        if not url.startswith(_APOLLO_SPECS) and directive.name.value == "link":
            continue  # a custom spec (@composeDirective): its directives belong to the API
        name = args.get("as") or match["name"]
        prefixes.add(f"{name}__")
        directives.add(name)
        major, minor = (int(part) for part in match["version"].split("."))
        for imported in args.get("import") or ():
            if isinstance(imported, str):
                directives.add(imported.lstrip("@"))
            elif isinstance(imported, dict):
                directives.add(str(imported.get("as") or imported.get("name", "")).lstrip("@"))
        if match["name"] == "join":
            join_prefix, join_version = f"{name}__", (major, minor)
        elif match["name"] == "inaccessible":
            inaccessible = name
        elif match["name"] == "tag":
            tag = name
    if join_prefix is None:
        raise SupergraphError("the supergraph links no join spec (https://specs.apollo.dev/join)")
    return Features(
        join_prefix=join_prefix,
        join_version=join_version,
        link_names=frozenset(link_names),
        inaccessible=inaccessible,
        tag=tag,
        spec_prefixes=frozenset(prefixes),
        spec_directives=frozenset(directives | link_names),
    )


def unwrap_type(node: TypeNode) -> str:
    while isinstance(node, (ListTypeNode, NonNullTypeNode)):
        node = node.type
    assert isinstance(node, NamedTypeNode)
    return node.name.value


_KINDS: dict[type, TypeKind] = {
    ObjectTypeDefinitionNode: "object",
    ObjectTypeExtensionNode: "object",
    InterfaceTypeDefinitionNode: "interface",
    InterfaceTypeExtensionNode: "interface",
    UnionTypeDefinitionNode: "union",
    UnionTypeExtensionNode: "union",
    EnumTypeDefinitionNode: "enum",
    EnumTypeExtensionNode: "enum",
    InputObjectTypeDefinitionNode: "input",
    InputObjectTypeExtensionNode: "input",
    ScalarTypeDefinitionNode: "scalar",
    ScalarTypeExtensionNode: "scalar",
}


class _Builder:
    def __init__(self, document: DocumentNode, features: Features) -> None:
        self.document = document
        self.features = features
        self.prefix = features.join_prefix
        self.subgraphs: dict[ServiceName, Subgraph] = {}
        self.by_enum: dict[str, ServiceName] = {}

    def graph(self, enum_value: Any) -> ServiceName:
        try:
            return self.by_enum[str(enum_value)]
        except KeyError:
            raise SupergraphError(f"unknown join__Graph value {enum_value!r}") from None

    def read_graphs(self) -> None:
        for definition in self.document.definitions:
            if (
                isinstance(definition, EnumTypeDefinitionNode)
                and definition.name.value == f"{self.prefix}Graph"
            ):
                for value in definition.values or ():
                    for directive in value.directives or ():
                        if directive.name.value == f"{self.prefix}graph":
                            args = _args(directive)
                            name = ServiceName(args["name"])
                            self.subgraphs[name] = Subgraph(
                                name=name, enum_value=value.name.value, url=args["url"]
                            )
                            self.by_enum[value.name.value] = name
        if not self.subgraphs:
            raise SupergraphError(f"the supergraph declares no subgraph ({self.prefix}Graph)")

    def is_machinery(self, name: str) -> bool:
        return any(name.startswith(prefix) for prefix in self.features.spec_prefixes)

    def has(self, node: Any, directive_name: str | None) -> bool:
        return directive_name is not None and any(
            d.name.value == directive_name for d in node.directives or ()
        )

    def build(self) -> Supergraph:
        self.read_graphs()
        raw: dict[str, dict[str, Any]] = {}
        root_types = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}
        explicit_roots = False
        for definition in self.document.definitions:
            if isinstance(definition, SchemaDefinitionNode):
                explicit_roots = True
                root_types = {
                    op.operation.value: op.type.name.value for op in definition.operation_types
                }
                continue
            kind = _KINDS.get(type(definition))
            if kind is None:
                continue
            name = definition.name.value  # type: ignore[attr-defined]
            if self.is_machinery(name):
                continue
            entry = raw.setdefault(
                name,
                {"kind": kind, "joins": defaultdict(list), "fields": {}, "implements": defaultdict(set),
                 "interfaces": set(), "members": defaultdict(set), "all_members": set(),
                 "values": set(),
                 "inaccessible": False},
            )
            self.read_type(definition, entry)
        if not explicit_roots:
            root_types = {k: v for k, v in root_types.items() if v in raw}
        root_types = {k: v for k, v in root_types.items() if v in raw}
        types = {name: self.freeze(name, entry) for name, entry in raw.items()}
        possible: dict[str, set[str]] = defaultdict(set)
        for type_def in types.values():
            if type_def.kind == "object":
                for interface in type_def.interfaces:
                    possible[interface].add(type_def.name)
            if type_def.kind == "union":
                possible[type_def.name] |= raw[type_def.name]["all_members"]
        # interfaces implementing interfaces: an object of the inner one is also of the outer one
        for type_def in types.values():
            if type_def.kind == "interface":
                possible.setdefault(type_def.name, set())
        return Supergraph(
            sdl="",
            subgraphs=self.subgraphs,
            types=types,
            root_types=root_types,
            possible_types={k: frozenset(v) for k, v in possible.items()},
        )

    def read_type(self, definition: Any, entry: dict[str, Any]) -> None:
        prefix = self.prefix
        for directive in definition.directives or ():
            dname = directive.name.value
            args = _args(directive)
            if dname == f"{prefix}type":
                graph = self.graph(args["graph"])
                entry["joins"][graph].append(
                    JoinType(
                        graph=graph,
                        key=FieldSet(args["key"]) if args.get("key") else None,
                        extension=bool(args.get("extension", False)),
                        resolvable=bool(args.get("resolvable", True)),
                        is_interface_object=bool(args.get("isInterfaceObject", False)),
                    )
                )
            elif dname == f"{prefix}owner":  # join v0.1: the owner graph of an entity
                graph = self.graph(args["graph"])
                entry["joins"].setdefault(graph, [])
                entry["owner"] = graph
            elif dname == f"{prefix}implements":
                entry["implements"][self.graph(args["graph"])].add(args["interface"])
            elif dname == f"{prefix}unionMember":
                entry["members"][self.graph(args["graph"])].add(args["member"])
        if self.has(definition, self.features.inaccessible):
            entry["inaccessible"] = True
        for interface in getattr(definition, "interfaces", None) or ():
            entry["interfaces"].add(interface.name.value)
        if isinstance(definition, (EnumTypeDefinitionNode, EnumTypeExtensionNode)):
            entry["values"] |= {v.name.value for v in definition.values or ()}
        for member in getattr(definition, "types", None) or ():
            entry["all_members"].add(member.name.value)
        for field_node in getattr(definition, "fields", None) or ():
            if isinstance(definition, (InputObjectTypeDefinitionNode, InputObjectTypeExtensionNode)):
                type_node = field_node.type
            else:
                type_node = field_node.type
            joins: dict[ServiceName, JoinField] = {}
            no_graph = False
            for directive in field_node.directives or ():
                if directive.name.value != f"{prefix}field":
                    continue
                args = _args(directive)
                if args.get("graph") is None:
                    no_graph = True
                    continue
                graph = self.graph(args["graph"])
                override = args.get("override")
                joins[graph] = JoinField(
                    graph=graph,
                    requires=FieldSet(args["requires"]) if args.get("requires") else None,
                    provides=FieldSet(args["provides"]) if args.get("provides") else None,
                    type=args.get("type"),
                    external=bool(args.get("external", False)),
                    override=override,
                    override_label=args.get("overrideLabel"),
                    used_overridden=bool(args.get("usedOverridden", False)),
                )
            entry["fields"][field_node.name.value] = {
                "type": print_ast(type_node),
                "named": unwrap_type(type_node),
                "joins": joins,
                "no_graph": no_graph,
                "inaccessible": self.has(field_node, self.features.inaccessible),
            }

    def freeze(self, name: str, entry: dict[str, Any]) -> TypeDef:
        fields = {}
        for field_name, f in entry["fields"].items():
            joins = f["joins"]
            if not joins and self.features.join_version < (0, 2) and entry.get("owner"):
                # join v0.1: a field without join__field belongs to the entity's owner
                joins = {entry["owner"]: JoinField(graph=entry["owner"])}
            fields[field_name] = FieldDef(
                name=field_name,
                type=f["type"],
                named_type=f["named"],
                joins=joins,
                inaccessible=f["inaccessible"],
                no_graph=f["no_graph"] and not joins,
            )
        return TypeDef(
            name=name,
            kind=entry["kind"],
            joins={g: tuple(j) for g, j in entry["joins"].items()},
            fields=fields,
            implements={g: frozenset(v) for g, v in entry["implements"].items()},
            interfaces=frozenset(entry["interfaces"]),
            members={g: frozenset(v) for g, v in entry["members"].items()},
            values=frozenset(entry["values"]),
            inaccessible=entry["inaccessible"],
        )


def parse_supergraph(sdl: str) -> Supergraph:
    """Read a supergraph SDL (Federation 2 `@link` or Federation 1 `@core`)."""
    try:
        document = parse(sdl)
    except Exception as error:  # graphql-core raises GraphQLSyntaxError
        raise SupergraphError(f"the supergraph SDL does not parse: {error}") from error
    features = read_features(document)
    model = _Builder(document, features).build()
    return Supergraph(
        sdl=sdl,
        subgraphs=model.subgraphs,
        types=model.types,
        root_types=model.root_types,
        possible_types=model.possible_types,
        join_version=features.join_version,
    )
