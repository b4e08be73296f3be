"""The front-door directives of a supergraph: access control (`@authenticated`, `@requiresScopes`,
`@policy`) and demand control (`@cost`, `@listSize`), read under the names their `@link`s give."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    parse,
    value_from_ast_untyped,
)

__all__ = ["Access", "FrontDoor", "ListSize", "read_front_door"]

# OR of ANDs, as the directives spell them: [["a", "b"], ["c"]] is (a and b) or c.
Alternatives = tuple[frozenset[str], ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Access:
    """What a caller needs to read one field (the field's own directives and its type's)."""

    authenticated: bool = False
    scopes: tuple[Alternatives, ...] = ()  # every entry must be met
    policies: tuple[Alternatives, ...] = ()

    def __bool__(self) -> bool:
        return self.authenticated or bool(self.scopes) or bool(self.policies)

    def combine(self, other: Access) -> Access:
        return Access(authenticated=self.authenticated or other.authenticated,
                      scopes=self.scopes + other.scopes, policies=self.policies + other.policies)


@dataclass(frozen=True, kw_only=True, slots=True)
class ListSize:
    assumed_size: int | None = None
    slicing_arguments: tuple[str, ...] = ()
    sized_fields: tuple[str, ...] = ()
    require_one_slicing_argument: bool = True


@dataclass(frozen=True, kw_only=True, slots=True)
class FrontDoor:
    field_access: dict[tuple[str, str], Access] = field(default_factory=dict)
    type_access: dict[str, Access] = field(default_factory=dict)
    field_cost: dict[tuple[str, str], int] = field(default_factory=dict)
    type_cost: dict[str, int] = field(default_factory=dict)
    argument_cost: dict[tuple[str, str, str], int] = field(default_factory=dict)
    list_size: dict[tuple[str, str], ListSize] = field(default_factory=dict)

    @property
    def has_access_rules(self) -> bool:
        return bool(self.field_access or self.type_access)

    def access(self, parent: str, field_name: str, named_type: str) -> Access:
        own = self.field_access.get((parent, field_name), _OPEN)
        return own.combine(self.type_access.get(named_type, _OPEN)) if named_type in self.type_access else own


_OPEN = Access()
_TYPES = (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode, ScalarTypeDefinitionNode,
          EnumTypeDefinitionNode)


def _link_names(document: DocumentNode) -> dict[str, str]:
    """Local directive name -> spec directive name, for the linked front-door specs."""
    names: dict[str, str] = {}
    for definition in document.definitions:
        if not isinstance(definition, SchemaDefinitionNode):
            continue
        for directive in definition.directives or ():
            if directive.name.value != "link":
                continue
            args = _args(directive)
            url = str(args.get("url") or "")
            spec = next((s for s in ("authenticated", "requiresScopes", "policy", "cost")
                         if f"/{s}/v" in url), None)
            if spec is None:
                continue
            local = str(args.get("as") or spec)
            names[local] = spec
            if spec == "cost":
                names[f"{local}__listSize"] = "listSize"
            for imported in args.get("import") or ():
                original, alias = ((imported, imported) if isinstance(imported, str)
                                   else (imported.get("name", ""), imported.get("as") or imported.get("name", "")))
                names[str(alias).lstrip("@")] = str(original).lstrip("@")
    return names


def _args(node: DirectiveNode) -> dict[str, Any]:
    return {arg.name.value: value_from_ast_untyped(arg.value) for arg in node.arguments or ()}


def _alternatives(value: Any) -> Alternatives:
    return tuple(frozenset(str(item) for item in group) for group in value or ())


def _access(directives: Any, names: dict[str, str]) -> Access:
    access = _OPEN
    for directive in directives or ():
        spec = names.get(directive.name.value)
        args = _args(directive)
        if spec == "authenticated":
            access = access.combine(Access(authenticated=True))
        elif spec == "requiresScopes":
            access = access.combine(Access(scopes=(_alternatives(args.get("scopes")),)))
        elif spec == "policy":
            access = access.combine(Access(policies=(_alternatives(args.get("policies")),)))
    return access


def _cost(directives: Any, names: dict[str, str]) -> int | None:
    for directive in directives or ():
        if names.get(directive.name.value) == "cost":
            return int(_args(directive)["weight"])
    return None


def _list_size(directives: Any, names: dict[str, str]) -> ListSize | None:
    for directive in directives or ():
        if names.get(directive.name.value) == "listSize":
            args = _args(directive)
            return ListSize(
                assumed_size=args.get("assumedSize"),
                slicing_arguments=tuple(args.get("slicingArguments") or ()),
                sized_fields=tuple(args.get("sizedFields") or ()),
                require_one_slicing_argument=bool(args.get("requireOneSlicingArgument", True)),
            )
    return None


def read_front_door(sdl: str | DocumentNode) -> FrontDoor:
    document = parse(sdl) if isinstance(sdl, str) else sdl
    names = _link_names(document)
    result = FrontDoor()
    if not names:
        return result
    for definition in document.definitions:
        if not isinstance(definition, _TYPES):
            continue
        type_name = definition.name.value
        if access := _access(definition.directives, names):
            result.type_access[type_name] = access
        if (weight := _cost(definition.directives, names)) is not None:
            result.type_cost[type_name] = weight
        for field_node in getattr(definition, "fields", None) or ():
            key = (type_name, field_node.name.value)
            if access := _access(field_node.directives, names):
                result.field_access[key] = access
            if (weight := _cost(field_node.directives, names)) is not None:
                result.field_cost[key] = weight
            if (size := _list_size(field_node.directives, names)) is not None:
                result.list_size[key] = size
            for argument in field_node.arguments or ():
                if (weight := _cost(argument.directives, names)) is not None:
                    result.argument_cost[(*key, argument.name.value)] = weight
    return result
