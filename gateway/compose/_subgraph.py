"""Subgraph SDL -> normalised subgraph model: federation links resolved, machinery stripped."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import GraphQLSyntaxError, parse
from graphql.language import ast

from . import errors as codes
from .errors import CompositionError

FEDERATION_DIRECTIVES = (
    "key", "external", "requires", "provides", "extends", "shareable", "override",
    "inaccessible", "tag", "interfaceObject", "composeDirective", "authenticated",
    "requiresScopes", "policy", "context", "fromContext", "cost", "listSize",
)  # fmt: skip
# The federation version that introduced each directive (importing it from an older one is an error).
DIRECTIVE_SINCE = {
    "composeDirective": (2, 1), "interfaceObject": (2, 3), "authenticated": (2, 5),
    "requiresScopes": (2, 5), "policy": (2, 6), "context": (2, 8), "fromContext": (2, 8),
    "cost": (2, 9), "listSize": (2, 9),
}  # fmt: skip
# Directive applications that composition carries into the supergraph as they are.
CARRIED_DIRECTIVES = ("inaccessible", "tag", "deprecated", "specifiedBy")
_FEDERATION_URL = re.compile(r"^https://specs\.apollo\.dev/federation/v(\d+)\.(\d+)$")
_LINK_URL = re.compile(r"^https://specs\.apollo\.dev/link/v\d+\.\d+$")
_MACHINERY_TYPES = {"_Service", "_Any", "_Entity", "FieldSet", "_FieldSet", "link__Import",
                    "link__Purpose", "federation__FieldSet", "federation__Scope",
                    "federation__Policy", "federation__ContextFieldValue"}  # fmt: skip
_MACHINERY_ROOT_FIELDS = {"_service", "_entities"}
_BUILTIN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}
_BUILTIN_DIRECTIVES = {"deprecated", "specifiedBy", "include", "skip", "oneOf"}
ROOT_NAMES = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}

OBJECT, INTERFACE, UNION, ENUM, INPUT, SCALAR = (
    "object", "interface", "union", "enum", "input", "scalar",
)  # fmt: skip


@dataclass(eq=False)
class Applied:
    """A directive application with its canonical (un-renamed) name."""

    name: str
    args: dict[str, ast.ValueNode]
    node: ast.DirectiveNode
    on_extension: bool = False


@dataclass(eq=False)
class SubArg:
    name: str
    type: ast.TypeNode
    default: ast.ValueNode | None
    description: str | None
    directives: list[Applied]


@dataclass(eq=False)
class SubField:
    name: str
    parent: str
    type: ast.TypeNode
    args: dict[str, SubArg]
    description: str | None
    directives: list[Applied]
    node: ast.Node
    shareable: bool = False
    external: bool = False

    @property
    def coordinate(self) -> str:
        return f"{self.parent}.{self.name}"

    def applied(self, name: str) -> list[Applied]:
        return [d for d in self.directives if d.name == name]

    def string_arg(self, directive: str, arg: str) -> str | None:
        for d in self.applied(directive):
            value = d.args.get(arg)
            if isinstance(value, ast.StringValueNode):
                return value.value
        return None


@dataclass(eq=False)
class SubEnumValue:
    name: str
    description: str | None
    directives: list[Applied]


@dataclass(eq=False)
class Key:
    fields: str
    resolvable: bool
    on_extension: bool
    node: ast.DirectiveNode


@dataclass(eq=False)
class SubType:
    kind: str
    name: str
    description: str | None = None
    fields: dict[str, SubField] = field(default_factory=dict)
    interfaces: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    values: dict[str, SubEnumValue] = field(default_factory=dict)
    keys: list[Key] = field(default_factory=list)
    directives: list[Applied] = field(default_factory=list)
    has_definition: bool = False
    has_extension: bool = False
    node: ast.Node | None = None

    def applied(self, name: str) -> list[Applied]:
        return [d for d in self.directives if d.name == name]

    @property
    def is_interface_object(self) -> bool:
        return self.kind == OBJECT and bool(self.applied("interfaceObject"))

    @property
    def extends(self) -> bool:
        return bool(self.applied("extends"))


@dataclass(frozen=True, slots=True)
class LinkedSpec:
    """A non-federation `@link` (custom directives brought in with `@composeDirective`)."""

    url: str
    imports: tuple[tuple[str, str], ...]  # (name in spec, local name), both without '@'


@dataclass(eq=False)
class Subgraph:
    name: str
    url: str
    fed2: bool
    version: tuple[int, int]
    types: dict[str, SubType]
    roots: dict[str, str]  # operation -> type name (after renaming to the default names)
    directive_defs: dict[str, ast.DirectiveDefinitionNode]
    links: list[LinkedSpec]
    compose_directives: list[str]  # local names, without '@'
    schema_directives: list[Applied]


def _fed_names(
    link: ast.DirectiveNode | None,
) -> tuple[dict[str, str], tuple[int, int] | None, list[str]]:
    """Map local directive names to canonical federation names from the federation `@link`."""
    if link is None:
        return {name: name for name in FEDERATION_DIRECTIVES}, None, []
    args = {a.name.value: a.value for a in link.arguments}
    url = args["url"].value  # type: ignore[attr-defined]
    match = _FEDERATION_URL.match(url)
    assert match
    version = (int(match.group(1)), int(match.group(2)))
    alias = args.get("as")
    prefix = alias.value if isinstance(alias, ast.StringValueNode) else "federation"
    names = {f"{prefix}__{name}": name for name in FEDERATION_DIRECTIVES}
    problems: list[str] = []
    imports = args.get("import")
    for item in imports.values if isinstance(imports, ast.ListValueNode) else []:
        if isinstance(item, ast.StringValueNode):
            original, local = item.value, item.value
        elif isinstance(item, ast.ObjectValueNode):
            fields = {f.name.value: f.value for f in item.fields}
            original = getattr(fields.get("name"), "value", "")
            local = getattr(fields.get("as"), "value", original)
        else:
            continue
        if not original.startswith("@"):
            continue  # type imports (FieldSet) need no mapping
        if original[1:] not in FEDERATION_DIRECTIVES or DIRECTIVE_SINCE.get(
            original[1:], (2, 0)
        ) > version:
            problems.append(original)
            continue
        names.pop(f"{prefix}__{original[1:]}", None)
        names[local.lstrip("@")] = original[1:]
    return names, version, problems


def _link_args(node: ast.DirectiveNode) -> dict[str, ast.ValueNode]:
    return {a.name.value: a.value for a in node.arguments}


def _custom_link(node: ast.DirectiveNode) -> LinkedSpec | None:
    args = _link_args(node)
    url = getattr(args.get("url"), "value", "")
    if _FEDERATION_URL.match(url) or _LINK_URL.match(url):
        return None
    imports: list[tuple[str, str]] = []
    spec_name = url.rstrip("/").split("/")[-2] if url.count("/") >= 2 else url
    prefix = getattr(args.get("as"), "value", spec_name)
    items = args.get("import")
    for item in items.values if isinstance(items, ast.ListValueNode) else []:
        if isinstance(item, ast.StringValueNode) and item.value.startswith("@"):
            imports.append((item.value[1:], item.value[1:]))
        elif isinstance(item, ast.ObjectValueNode):
            fields = {f.name.value: getattr(f.value, "value", "") for f in item.fields}
            if fields.get("name", "").startswith("@"):
                imports.append((fields["name"][1:], fields.get("as", fields["name"])[1:]))
    imports.append((spec_name, prefix))
    return LinkedSpec(url=url, imports=tuple(imports))


def _description(node: Any) -> str | None:
    desc = getattr(node, "description", None)
    return desc.value if desc is not None else None


class _Builder:
    def __init__(self, name: str, url: str, document: ast.DocumentNode) -> None:
        self.name = name
        self.url = url
        self.document = document
        self.errors: list[CompositionError] = []
        self.types: dict[str, SubType] = {}
        self.directive_defs: dict[str, ast.DirectiveDefinitionNode] = {}
        self.links: list[LinkedSpec] = []
        self.schema_directives: list[Applied] = []
        self.root_ops: dict[str, str] = {}

    def error(self, code: str, message: str, coordinate: str | None = None) -> None:
        self.errors.append(
            CompositionError(code, f"[{self.name}] {message}", self.name, coordinate)
        )

    def build(self) -> Subgraph | None:
        schema_nodes = [
            d
            for d in self.document.definitions
            if isinstance(d, (ast.SchemaDefinitionNode, ast.SchemaExtensionNode))
        ]
        links = [
            d for node in schema_nodes for d in node.directives or () if d.name.value == "link"
        ]
        fed_link = None
        for link in links:
            url = getattr(_link_args(link).get("url"), "value", "")
            if url.startswith("https://specs.apollo.dev/federation/"):
                if not _FEDERATION_URL.match(url) or not url.split("/v")[-1].startswith("2."):
                    self.error(
                        codes.UNKNOWN_FEDERATION_LINK_VERSION,
                        f'Invalid federation version in @link url "{url}"',
                    )
                    return None
                fed_link = link
            else:
                custom = _custom_link(link)
                if custom is not None:
                    self.links.append(custom)
        self.names, version, problems = _fed_names(fed_link)
        for problem in problems:
            self.error(
                codes.INVALID_LINK_DIRECTIVE_USAGE,
                f'Cannot import unknown element "{problem}".',
            )
        self.fed2 = version is not None
        if version is not None and not (0 <= version[1] <= 12):
            self.error(
                codes.UNKNOWN_FEDERATION_LINK_VERSION,
                f"Invalid version v{version[0]}.{version[1]} for the federation feature",
            )
            return None
        for custom in self.links:
            for original, local in custom.imports:
                self.names.setdefault(local, local)
        for node in schema_nodes:
            for op in node.operation_types or ():
                self.root_ops[op.operation.value] = op.type.name.value
            self.schema_directives.extend(
                self.applied(d) for d in node.directives or () if d.name.value != "link"
            )
        for definition in self.document.definitions:
            self.add_definition(definition)
        self.rename_roots()
        self.strip_machinery()
        self.check_references()
        self.check_directives()
        self.apply_federation_flags()
        compose = [
            getattr(d.args.get("name"), "value", "").lstrip("@")
            for d in self.schema_directives
            if d.name == "composeDirective"
        ]
        return Subgraph(
            name=self.name,
            url=self.url,
            fed2=self.fed2,
            version=version or (2, 0),
            types=self.types,
            roots={op: ROOT_NAMES[op] for op in ROOT_NAMES if ROOT_NAMES[op] in self.types},
            directive_defs=self.directive_defs,
            links=self.links,
            compose_directives=compose,
            schema_directives=self.schema_directives,
        )

    def applied(self, node: ast.DirectiveNode, *, on_extension: bool = False) -> Applied:
        local = node.name.value
        canonical = self.names.get(local, local)
        return Applied(
            name=canonical,
            args={a.name.value: a.value for a in node.arguments or ()},
            node=node,
            on_extension=on_extension,
        )

    def add_definition(self, node: ast.DefinitionNode) -> None:
        if isinstance(node, ast.DirectiveDefinitionNode):
            self.directive_defs[node.name.value] = node
            return
        if not isinstance(node, (ast.TypeDefinitionNode, ast.TypeExtensionNode)):
            return
        kind = {
            "object": OBJECT, "interface": INTERFACE, "union": UNION, "enum": ENUM,
            "input_object": INPUT, "scalar": SCALAR,
        }[node.kind.replace("_type_definition", "").replace("_type_extension", "")]  # fmt: skip
        name = node.name.value
        is_extension = isinstance(node, ast.TypeExtensionNode)
        sub = self.types.get(name)
        if sub is None:
            sub = self.types[name] = SubType(kind=kind, name=name, node=node)
        elif sub.kind != kind:
            self.error(codes.INVALID_GRAPHQL, f'Type "{name}" is defined with two kinds.', name)
            return
        if is_extension:
            sub.has_extension = True
        else:
            if sub.has_definition:
                self.error(
                    codes.INVALID_GRAPHQL,
                    f'There can be only one type named "{name}".',
                    name,
                )
            sub.has_definition = True
            sub.node = node
            sub.description = _description(node)
        for d in node.directives or ():
            applied = self.applied(d, on_extension=is_extension)
            sub.directives.append(applied)
            if applied.name == "key":
                self.add_key(sub, applied, is_extension)
        sub.interfaces.extend(i.name.value for i in getattr(node, "interfaces", None) or ())
        sub.members.extend(t.name.value for t in getattr(node, "types", None) or ())
        for value in getattr(node, "values", None) or ():
            sub.values[value.name.value] = SubEnumValue(
                name=value.name.value,
                description=_description(value),
                directives=[self.applied(d) for d in value.directives or ()],
            )
        type_shareable = any(
            self.names.get(d.name.value) == "shareable" for d in node.directives or ()
        )
        type_external = any(
            self.names.get(d.name.value) == "external" for d in node.directives or ()
        )
        for fnode in getattr(node, "fields", None) or ():
            fname = fnode.name.value
            if fname in sub.fields:
                self.error(
                    codes.INVALID_GRAPHQL,
                    f'Field "{name}.{fname}" can only be defined once.',
                    f"{name}.{fname}",
                )
                continue
            directives = [self.applied(d) for d in fnode.directives or ()]
            sub.fields[fname] = SubField(
                name=fname,
                parent=name,
                type=fnode.type,
                args={
                    a.name.value: SubArg(
                        name=a.name.value,
                        type=a.type,
                        default=a.default_value,
                        description=_description(a),
                        directives=[self.applied(d) for d in a.directives or ()],
                    )
                    for a in getattr(fnode, "arguments", None) or ()
                },
                description=_description(fnode),
                directives=directives,
                node=fnode,
                shareable=type_shareable or any(d.name == "shareable" for d in directives),
                external=type_external or any(d.name == "external" for d in directives),
            )

    def add_key(self, sub: SubType, applied: Applied, on_extension: bool) -> None:
        fields = applied.args.get("fields")
        if not isinstance(fields, ast.StringValueNode):
            self.error(
                codes.KEY_INVALID_FIELDS_TYPE,
                f'On type "{sub.name}", for {print_directive(applied.node)}: '
                'Invalid value for argument "fields": must be a string.',
                sub.name,
            )
            return
        resolvable = applied.args.get("resolvable")
        sub.keys.append(
            Key(
                fields=fields.value,
                resolvable=not (
                    isinstance(resolvable, ast.BooleanValueNode) and not resolvable.value
                ),
                on_extension=on_extension,
                node=applied.node,
            )
        )

    def rename_roots(self) -> None:
        for op, type_name in self.root_ops.items():
            default = ROOT_NAMES[op]
            if type_name == default or type_name not in self.types:
                continue
            sub = self.types.pop(type_name)
            sub.name = default
            for f in sub.fields.values():
                f.parent = default
            self.types[default] = sub
            self.rename_references(type_name, default)

    def rename_references(self, old: str, new: str) -> None:
        for sub in self.types.values():
            for f in sub.fields.values():
                f.type = _rename_type(f.type, old, new)

    def strip_machinery(self) -> None:
        for name in list(self.types):
            if name in _MACHINERY_TYPES or name.startswith(("federation__", "link__")):
                del self.types[name]
        for name in list(self.directive_defs):
            canonical = self.names.get(name, name)
            machinery = canonical in FEDERATION_DIRECTIVES or name == "link" or "__" in name
            if machinery and (canonical not in ("tag", "inaccessible") or "__" in name):
                del self.directive_defs[name]
        query = self.types.get("Query")
        if query is not None:
            for fname in _MACHINERY_ROOT_FIELDS:
                query.fields.pop(fname, None)
        else:
            # Federation gives every subgraph a Query root (for `_service`), so each one joins it.
            self.types["Query"] = SubType(kind=OBJECT, name="Query", has_definition=True)

    def check_references(self) -> None:
        known = set(self.types) | _BUILTIN_SCALARS
        for sub in self.types.values():
            if (
                sub.has_extension
                and not sub.has_definition
                and not self.fed2
                and sub.kind == SCALAR
            ):
                continue
            for f in sub.fields.values():
                self.check_type(f.type, known, f.coordinate)
                for arg in f.args.values():
                    self.check_type(arg.type, known, f"{f.coordinate}({arg.name}:)")
            for itf in sub.interfaces:
                if itf not in known:
                    self.error(codes.INVALID_GRAPHQL, f'Unknown type "{itf}".', sub.name)
            for member in sub.members:
                if member not in known:
                    self.error(codes.INVALID_GRAPHQL, f'Unknown type "{member}".', sub.name)

    def check_directives(self) -> None:
        known = set(self.names) | _BUILTIN_DIRECTIVES | set(self.directive_defs) | {"link"}
        for sub in self.types.values():
            self.check_applied(sub.directives, known, sub.name)
            for f in sub.fields.values():
                self.check_applied(f.directives, known, f.coordinate)
                for arg in f.args.values():
                    self.check_applied(arg.directives, known, f"{f.coordinate}({arg.name}:)")
            for value in sub.values.values():
                self.check_applied(value.directives, known, f"{sub.name}.{value.name}")

    def check_applied(self, applied: list[Applied], known: set[str], coordinate: str) -> None:
        for d in applied:
            local = d.node.name.value
            if local in known:
                continue
            extra = ""
            if local in FEDERATION_DIRECTIVES:
                extra = (
                    f' If you meant the "@{local}" federation directive, you should use '
                    f'fully-qualified name "@federation__{local}" or add "@{local}" to the '
                    "`import` argument of the @link to the federation specification."
                )
            self.error(codes.INVALID_GRAPHQL, f'Unknown directive "@{local}".{extra}', coordinate)

    def check_type(self, type_node: ast.TypeNode, known: set[str], coordinate: str) -> None:
        name = named_type(type_node)
        if name not in known:
            self.error(codes.INVALID_GRAPHQL, f'Unknown type "{name}".', coordinate)

    def apply_federation_flags(self) -> None:
        """Fed1 rules (Apollo's schema upgrader): every field is shareable, no @external on interfaces."""
        if self.fed2:
            return
        for sub in self.types.values():
            for f in sub.fields.values():
                f.shareable = True
                if sub.kind == INTERFACE:
                    f.external = False


def _rename_type(node: ast.TypeNode, old: str, new: str) -> ast.TypeNode:
    if isinstance(node, ast.NonNullTypeNode):
        return ast.NonNullTypeNode(type=_rename_type(node.type, old, new))
    if isinstance(node, ast.ListTypeNode):
        return ast.ListTypeNode(type=_rename_type(node.type, old, new))
    assert isinstance(node, ast.NamedTypeNode)
    if node.name.value == old:
        return ast.NamedTypeNode(name=ast.NameNode(value=new))
    return node


def named_type(node: ast.TypeNode) -> str:
    while not isinstance(node, ast.NamedTypeNode):
        node = node.type  # type: ignore[attr-defined]
    return node.name.value


def print_directive(node: ast.DirectiveNode) -> str:
    from graphql import print_ast

    return print_ast(node)


def top_level_fields(field_set: str) -> list[str]:
    try:
        selection = parse_field_set(field_set)
    except GraphQLSyntaxError:
        return []
    return [s.name.value for s in selection.selections if isinstance(s, ast.FieldNode)]


@lru_cache(maxsize=4096)
def parse_field_set(field_set: str) -> ast.SelectionSetNode:
    """Parse a @key/@requires/@provides selection (cached: the same strings recur constantly)."""
    document = parse("{" + field_set + "}", no_location=True)
    operation = document.definitions[0]
    assert isinstance(operation, ast.OperationDefinitionNode)
    return operation.selection_set


def build_subgraph(name: str, url: str, sdl: str) -> tuple[Subgraph | None, list[CompositionError]]:
    """Parse one subgraph; a syntax error or a malformed federation link yields no model."""
    try:
        document = parse(sdl)
    except GraphQLSyntaxError as exc:
        location = exc.locations[0] if exc.locations else None
        where = f" at line {location.line}, column {location.column}" if location else ""
        return None, [
            CompositionError(
                codes.INVALID_GRAPHQL,
                f"[{name}] {exc.message} (syntax error{where})",
                name,
                None,
            )
        ]
    builder = _Builder(name, url, document)
    subgraph = builder.build()
    return subgraph, builder.errors
