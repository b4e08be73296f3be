"""Per-subgraph federation rules: @key, @requires, @provides and @external checked against the SDL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from graphql import GraphQLSyntaxError
from graphql.language import ast

from . import errors as codes
from ._subgraph import (
    INTERFACE,
    OBJECT,
    UNION,
    SubField,
    Subgraph,
    SubType,
    named_type,
    parse_field_set,
)
from .errors import CompositionError


@dataclass(eq=False)
class SubgraphUsage:
    """Which fields a subgraph's federation directives touch (the basis of sharing and override)."""

    key_fields: set[tuple[str, str]] = field(default_factory=set)
    provided: set[tuple[str, str]] = field(default_factory=set)
    required: set[tuple[str, str]] = field(default_factory=set)
    interface_fields: set[tuple[str, str]] = field(default_factory=set)

    def is_used(self, type_name: str, field_name: str) -> bool:
        coordinate = (type_name, field_name)
        return (
            coordinate in self.key_fields
            or coordinate in self.provided
            or coordinate in self.required
            or coordinate in self.interface_fields
        )


Visitor = Callable[[SubType, SubField, ast.FieldNode], None]


class _Checker:
    def __init__(self, subgraph: Subgraph) -> None:
        self.subgraph = subgraph
        self.errors: list[CompositionError] = []
        self.usage = SubgraphUsage()

    def error(self, code: str, message: str, coordinate: str | None) -> None:
        name = self.subgraph.name
        self.errors.append(CompositionError(code, f"[{name}] {message}", name, coordinate))

    def walk(
        self,
        parent: SubType,
        field_set: str,
        *,
        invalid_code: str,
        context: str,
        coordinate: str,
        visit: Visitor,
    ) -> bool:
        try:
            selection = parse_field_set(field_set)
        except GraphQLSyntaxError as exc:
            self.error(invalid_code, f"{context}: {exc.message}", coordinate)
            return False
        return self.walk_selection(parent, selection, invalid_code, context, coordinate, visit)

    def walk_selection(
        self,
        parent: SubType,
        selection: ast.SelectionSetNode,
        invalid_code: str,
        context: str,
        coordinate: str,
        visit: Visitor,
    ) -> bool:
        ok = True
        for node in selection.selections:
            if isinstance(node, ast.InlineFragmentNode):
                target = parent
                if node.type_condition is not None:
                    found = self.subgraph.types.get(node.type_condition.name.value)
                    if found is None:
                        self.error(
                            invalid_code,
                            f'{context}: Unknown type "{node.type_condition.name.value}"',
                            coordinate,
                        )
                        ok = False
                        continue
                    target = found
                ok &= self.walk_selection(
                    target, node.selection_set, invalid_code, context, coordinate, visit
                )
                continue
            if not isinstance(node, ast.FieldNode):
                self.error(invalid_code, f"{context}: fragments are not supported", coordinate)
                ok = False
                continue
            name = node.name.value
            if name == "__typename":
                continue
            sub_field = parent.fields.get(name)
            if sub_field is None:
                self.error(
                    invalid_code,
                    f'{context}: Cannot query field "{name}" on type "{parent.name}" (if the '
                    "field is defined in another subgraph, you need to add it to this subgraph "
                    "with @external).",
                    coordinate,
                )
                ok = False
                continue
            visit(parent, sub_field, node)
            child_type = self.subgraph.types.get(named_type(sub_field.type))
            if node.selection_set is not None:
                if child_type is None or child_type.kind not in (OBJECT, INTERFACE, UNION):
                    self.error(
                        invalid_code,
                        f'{context}: Field "{sub_field.coordinate}" must not have a selection '
                        "since its type is not composite.",
                        coordinate,
                    )
                    ok = False
                    continue
                ok &= self.walk_selection(
                    child_type, node.selection_set, invalid_code, context, coordinate, visit
                )
            elif child_type is not None and child_type.kind in (OBJECT, INTERFACE, UNION):
                self.error(
                    invalid_code,
                    f'{context}: Field "{sub_field.coordinate}" of composite type must have a '
                    "selection of subfields.",
                    coordinate,
                )
                ok = False
        return ok

    def check(self) -> None:
        for sub in self.subgraph.types.values():
            if sub.kind in (OBJECT, INTERFACE):
                for key in sub.keys:
                    self.check_key(sub, key.fields, fake_external=key.on_extension or sub.extends)
                for itf_name in sub.interfaces:
                    itf = self.subgraph.types.get(itf_name)
                    for fname in itf.fields if itf is not None else ():
                        self.usage.interface_fields.add((sub.name, fname))
        if not self.subgraph.fed2:
            self.drop_inactive_conditions()
        for sub in self.subgraph.types.values():
            for f in sub.fields.values():
                requires = f.string_arg("requires", "fields")
                if requires is not None:
                    self.check_requires(sub, f, requires)
                provides = f.string_arg("provides", "fields")
                if provides is not None:
                    self.check_provides(f, provides)
                for list_size in f.applied("listSize"):
                    self.check_list_size(f, list_size.args)
        if self.subgraph.fed2:
            self.check_unused_external()

    def drop_inactive_conditions(self) -> None:
        """Apollo's fed1 upgrade: @requires/@provides keep only the @external fields they name."""
        for sub in self.subgraph.types.values():
            for f in sub.fields.values():
                for applied in list(f.directives):
                    if applied.name not in ("requires", "provides"):
                        continue
                    target = sub if applied.name == "requires" else self.subgraph.types.get(
                        named_type(f.type)
                    )
                    fields = applied.args.get("fields")
                    if target is None or target.kind not in (OBJECT, INTERFACE, UNION):
                        f.directives.remove(applied)  # @provides on a leaf: meaningless, dropped
                        continue
                    if not isinstance(fields, ast.StringValueNode):
                        continue
                    try:
                        selection = parse_field_set(fields.value)
                    except GraphQLSyntaxError:
                        continue
                    kept = [
                        node
                        for node in selection.selections
                        if not isinstance(node, ast.FieldNode)
                        or node.name.value not in target.fields
                        or target.fields[node.name.value].external
                    ]
                    if len(kept) == len(selection.selections):
                        continue
                    if not kept:
                        f.directives.remove(applied)
                        continue
                    applied.args["fields"] = ast.StringValueNode(
                        value=" ".join(_compact(node) for node in kept)
                    )

    def check_key(self, sub: SubType, fields: str, *, fake_external: bool) -> None:
        context = f'On type "{sub.name}", for @key(fields: "{fields}")'

        def visit(parent: SubType, f: SubField, node: ast.FieldNode) -> None:
            self.usage.key_fields.add((parent.name, f.name))
            if fake_external:
                # @external on a key field of an extension only restates that the key is shared.
                f.external = False
            if sub.kind == OBJECT:
                f.shareable = True
            if f.args:
                self.error(
                    codes.KEY_FIELDS_HAS_ARGS,
                    f"{context}: field {f.coordinate} cannot be included because it has "
                    "arguments (fields with argument are not allowed in @key)",
                    f.coordinate,
                )
            # Lists are allowed in keys since federation 2; abstract types are not.
            target = self.subgraph.types.get(named_type(f.type))
            if target is not None and target.kind in (INTERFACE, UNION):
                kind = "Interface" if target.kind == INTERFACE else "Union"
                self.error(
                    codes.KEY_FIELDS_SELECT_INVALID_TYPE,
                    f'{context}: field "{f.coordinate}" is a {kind} type which is not allowed '
                    "in @key",
                    f.coordinate,
                )

        self.walk(
            sub,
            fields,
            invalid_code=codes.KEY_INVALID_FIELDS,
            context=context,
            coordinate=sub.name,
            visit=visit,
        )

    def check_requires(self, sub: SubType, f: SubField, fields: str) -> None:
        context = f'On field "{f.coordinate}", for @requires(fields: "{fields}")'

        def visit(parent: SubType, target: SubField, node: ast.FieldNode) -> None:
            self.usage.required.add((parent.name, target.name))
            if parent is sub and not target.external:
                self.error(
                    codes.REQUIRES_FIELDS_MISSING_EXTERNAL,
                    f'{context}: field "{target.coordinate}" should not be part of a @requires '
                    "since it is already provided by this subgraph (it is not marked @external)",
                    f.coordinate,
                )

        self.walk(
            sub,
            fields,
            invalid_code=codes.REQUIRES_INVALID_FIELDS,
            context=context,
            coordinate=f.coordinate,
            visit=visit,
        )

    def check_provides(self, f: SubField, fields: str) -> None:
        context = f'On field "{f.coordinate}", for @provides(fields: "{fields}")'
        target_type = self.subgraph.types.get(named_type(f.type))
        if target_type is None or target_type.kind not in (OBJECT, INTERFACE, UNION):
            self.error(
                codes.PROVIDES_ON_NON_OBJECT_FIELD,
                f'Invalid @provides directive on field "{f.coordinate}": field has type '
                f'"{named_type(f.type)}" which is not a Composite Type',
                f.coordinate,
            )
            return

        def visit(parent: SubType, target: SubField, node: ast.FieldNode) -> None:
            self.usage.provided.add((parent.name, target.name))
            if target.external:
                target.shareable = True
            if parent is target_type and not target.external and self.subgraph.fed2:
                self.error(
                    codes.PROVIDES_FIELDS_MISSING_EXTERNAL,
                    f'{context}: field "{target.coordinate}" should not be part of a @provides '
                    "since it is already provided by this subgraph (it is not marked @external)",
                    f.coordinate,
                )

        self.walk(
            target_type,
            fields,
            invalid_code=codes.PROVIDES_INVALID_FIELDS,
            context=context,
            coordinate=f.coordinate,
            visit=visit,
        )

    def check_list_size(self, f: SubField, args: dict[str, ast.ValueNode]) -> None:
        """Apollo's @listSize rules: on a list (or a type with sized list fields), a non-negative
        assumed size, Int slicing arguments of the field, sized fields that are lists."""
        sized = [v.value for v in _list_items(args.get("sizedFields")) if isinstance(v, ast.StringValueNode)]
        if not sized and not _is_list(f.type):
            self.error(codes.LIST_SIZE_APPLIED_TO_NON_LIST, f'"{f.coordinate}" is not a list', f.coordinate)
        assumed = args.get("assumedSize")
        if isinstance(assumed, ast.IntValueNode) and int(assumed.value) < 0:
            self.error(codes.LIST_SIZE_INVALID_ASSUMED_SIZE,
                       f'Assumed size of "{f.coordinate}" cannot be negative', f.coordinate)
        for value in _list_items(args.get("slicingArguments")):
            name = value.value if isinstance(value, ast.StringValueNode) else ""
            argument = f.args.get(name)
            if argument is None or named_type(argument.type) != "Int":
                self.error(codes.LIST_SIZE_INVALID_SLICING_ARGUMENT,
                           f'Slicing argument "{name}" is not an Int argument of "{f.coordinate}"',
                           f.coordinate)
        returned = self.subgraph.types.get(named_type(f.type))
        for name in sized:
            child = returned.fields.get(name) if returned is not None else None
            if child is None:
                self.error(codes.LIST_SIZE_INVALID_SIZED_FIELD,
                           f'Sized field "{name}" is not a field on type "{named_type(f.type)}"', f.coordinate)
            elif not _is_list(child.type):
                self.error(codes.LIST_SIZE_INVALID_SIZED_FIELD,
                           f'Sized field "{named_type(f.type)}.{name}" is not a list', f.coordinate)

    def check_unused_external(self) -> None:
        for sub in self.subgraph.types.values():
            if sub.kind not in (OBJECT, INTERFACE):
                continue
            for f in sub.fields.values():
                if f.external and not self.usage.is_used(sub.name, f.name):
                    self.error(
                        codes.EXTERNAL_UNUSED,
                        f'Field "{f.coordinate}" is marked @external but is not used in any '
                        "federation directive (@key, @provides, @requires) or to satisfy an "
                        "interface; the field declaration has no use and should be removed (or "
                        "the field should not be @external).",
                        f.coordinate,
                    )


def _list_items(value: ast.ValueNode | None) -> tuple[ast.ValueNode, ...]:
    if isinstance(value, ast.ListValueNode):
        return tuple(value.values)
    return (value,) if value is not None else ()


def _is_list(node: ast.TypeNode) -> bool:
    if isinstance(node, ast.NonNullTypeNode):
        node = node.type
    return isinstance(node, ast.ListTypeNode)


def _compact(node: ast.SelectionNode) -> str:
    """A selection on one line, the way Apollo prints field sets (`a { b c }`)."""
    if isinstance(node, ast.FieldNode):
        head = node.name.value
    elif isinstance(node, ast.InlineFragmentNode):
        head = f"... on {node.type_condition.name.value}" if node.type_condition else "..."
    else:
        return ""
    inner = getattr(node, "selection_set", None)
    if inner is None:
        return head
    return head + " { " + " ".join(_compact(s) for s in inner.selections) + " }"


def validate_subgraph(subgraph: Subgraph) -> tuple[SubgraphUsage, list[CompositionError]]:
    """Check one subgraph's federation directives; return the fields they use and the errors."""
    checker = _Checker(subgraph)
    checker.check()
    return checker.usage, checker.errors
