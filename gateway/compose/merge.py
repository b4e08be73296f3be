"""Merge validated subgraphs into one supergraph (join__* directives), after Apollo's `merge.ts`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from graphql import print_ast
from graphql.language import ast

from . import errors as codes
from ._model import (
    EnumLiteral,
    MArg,
    MEnumValue,
    MField,
    MType,
    directive,
    same_application,
)
from ._subgraph import (
    CARRIED_DIRECTIVES,
    ENUM,
    INPUT,
    INTERFACE,
    OBJECT,
    ROOT_NAMES,
    SCALAR,
    UNION,
    Applied,
    SubArg,
    SubField,
    Subgraph,
    SubType,
    named_type,
)
from .errors import CompositionError, CompositionHint
from .validate import SubgraphUsage

Sources = dict[int, "SubField | None"]


def graph_enum_names(names: Sequence[str]) -> dict[str, str]:
    """Subgraph name -> join__Graph value, sanitised exactly like Apollo's `populateGraphEnum`."""
    sanitized: dict[str, list[str]] = {}
    for name in names:
        value = re.sub(r"\W", "_", name)
        if re.match(r"^\d", value):
            value = "_" + value
        if re.search(r"_\d+$", value):
            value += "_"
        sanitized.setdefault(value.upper(), []).append(name)
    result: dict[str, str] = {}
    for value, owners in sanitized.items():
        for index, owner in enumerate(owners):
            result[owner] = value if len(owners) == 1 else f"{value}_{index + 1}"
    return result


@dataclass(eq=False)
class _FieldContext:
    """Per-source override state of one field (Apollo's FieldMergeContext)."""

    used_overridden: set[int] = field(default_factory=set)
    unused_overridden: set[int] = field(default_factory=set)
    labels: dict[int, str] = field(default_factory=dict)


@dataclass(eq=False)
class Supergraph:
    types: dict[str, MType]
    schema_links: list[ast.DirectiveNode]
    roots: dict[str, str]
    join_version: tuple[int, int]
    directive_definitions: list[str]
    graphs: list[tuple[str, str, str]]  # enum value, subgraph name, url


class Merger:
    def __init__(self, subgraphs: Sequence[Subgraph], usages: Sequence[SubgraphUsage]) -> None:
        self.subgraphs = list(subgraphs)
        self.usages = list(usages)
        self.names = [s.name for s in self.subgraphs]
        self.graph_names = graph_enum_names(self.names)
        self.errors: list[CompositionError] = []
        self.hints: list[CompositionHint] = []
        self.types: dict[str, MType] = {}
        self.enum_usage: dict[str, str] = {}
        self.used_features: set[str] = set()
        self.compose: dict[str, tuple[int, ast.DirectiveDefinitionNode]] = {}
        self.version = max((s.version for s in self.subgraphs if s.fed2), default=(2, 0))

    # -- helpers -----------------------------------------------------------------------------

    def error(
        self, code: str, message: str, *, subgraph: str | None = None, coordinate: str | None = None
    ) -> None:
        self.errors.append(CompositionError(code, message, subgraph, coordinate))

    def hint(self, code: str, message: str, coordinate: str | None = None) -> None:
        self.hints.append(CompositionHint(code=code, message=message, coordinate=coordinate))

    def graph(self, idx: int) -> EnumLiteral:
        return EnumLiteral(self.graph_names[self.names[idx]])

    def sub_type(self, idx: int, name: str) -> SubType | None:
        return self.subgraphs[idx].types.get(name)

    def kind_of(self, sub: SubType) -> str:
        return INTERFACE if sub.is_interface_object else sub.kind

    def type_sources(self, t: MType) -> dict[int, SubType]:
        found: dict[int, SubType] = {}
        for idx, subgraph in enumerate(self.subgraphs):
            sub = subgraph.types.get(t.name)
            if sub is not None and self.kind_of(sub) == t.kind:
                found[idx] = sub
        return found

    def in_subgraphs(self, sources: dict[int, SubType]) -> str:
        names = [f'"{self.names[i]}"' for i in sources]
        return ("subgraph " if len(names) == 1 else "subgraphs ") + ", ".join(names)

    # -- pipeline ----------------------------------------------------------------------------

    def merge(self) -> Supergraph:
        self.collect_compose_directives()
        self.add_types_shallow()
        by_kind: dict[str, list[MType]] = {}
        for t in self.types.values():
            by_kind.setdefault(t.kind, []).append(t)
        for t in by_kind.get(OBJECT, []) + by_kind.get(INTERFACE, []):
            self.merge_implements(t)
        for t in by_kind.get(UNION, []):
            self.merge_type(t)
        for t in by_kind.get(SCALAR, []) + by_kind.get(INPUT, []) + by_kind.get(INTERFACE, []):
            self.merge_type(t)
        for t in by_kind.get(OBJECT, []):
            self.merge_type(t)
        for t in by_kind.get(ENUM, []):
            self.merge_type(t)
        if "Query" not in self.types:
            self.error(
                codes.NO_QUERIES,
                "No queries found in any subgraph: a supergraph must have a query root type.",
                coordinate="Query",
            )
        self.add_interface_object_fields()
        self.merge_executable_directives()
        # Returned even when there are errors: the caller still walks it for satisfiability so a
        # single run reports everything (it never prints a supergraph that had errors).
        return self.finish()

    def collect_compose_directives(self) -> None:
        for idx, subgraph in enumerate(self.subgraphs):
            for name in subgraph.compose_directives:
                definition = subgraph.directive_defs.get(name)
                if definition is not None and name not in self.compose:
                    self.compose[name] = (idx, definition)

    def add_types_shallow(self) -> None:
        mismatched: dict[str, list[tuple[int, str]]] = {}
        for idx, subgraph in enumerate(self.subgraphs):
            for sub in subgraph.types.values():
                kind = self.kind_of(sub)
                existing = self.types.get(sub.name)
                if existing is None:
                    self.types[sub.name] = MType(kind=kind, name=sub.name)
                elif existing.kind != kind:
                    mismatched.setdefault(sub.name, [])
        for name in mismatched:
            kinds = [
                f'{self.kind_of(s.types[name])} in "{s.name}"'
                for s in self.subgraphs
                if name in s.types
            ]
            self.error(
                codes.TYPE_KIND_MISMATCH,
                f'Type "{name}" has mismatched kind: it is defined as ' + ", ".join(kinds),
                coordinate=name,
            )
        for name, t in self.types.items():
            if t.kind != INTERFACE or name in mismatched:
                continue
            sources = self.type_sources(t)
            if sources and all(s.is_interface_object for s in sources.values()):
                self.error(
                    codes.INTERFACE_OBJECT_USAGE_ERROR,
                    f'Type "{name}" is declared with @interfaceObject in all the subgraphs in '
                    f"which it is defined (it is defined in {self.in_subgraphs(sources)} but "
                    "should be defined as an interface in at least one subgraph)",
                    subgraph=self.names[next(iter(sources))],
                    coordinate=name,
                )

    def merge_implements(self, t: MType) -> None:
        for idx, sub in self.type_sources(t).items():
            for itf in sub.interfaces:
                if itf not in t.interfaces:
                    t.interfaces.append(itf)
                t.directives.append(
                    directive("join__implements", graph=self.graph(idx), interface=itf)
                )

    def merge_type(self, t: MType) -> None:
        sources = self.type_sources(t)
        self.check_extension_with_no_base(t, sources)
        t.description = self.merge_descriptions([s.description for s in sources.values()])
        self.add_join_types(t, sources)
        carried = self.merge_applied([s.directives for s in sources.values()])
        # @inaccessible lands at once; the other carried directives after every join__ one.
        t.directives.extend(d for d in carried if d.name.value == "inaccessible")
        self.add_contexts(t, sources)
        if t.kind == OBJECT:
            self.merge_object(t, sources)
        elif t.kind == INTERFACE:
            self.merge_interface(t, sources)
        elif t.kind == UNION:
            self.merge_union(t, sources)
        elif t.kind == ENUM:
            self.merge_enum(t, sources)
        elif t.kind == INPUT:
            self.merge_input(t, sources)
        t.directives.extend(d for d in carried if d.name.value != "inaccessible")

    def add_contexts(self, t: MType, sources: dict[int, SubType]) -> None:
        """@context names are per subgraph, so the supergraph qualifies them (`<subgraph>__name`)."""
        for idx, sub in sources.items():
            for applied in sub.applied("context"):
                name = applied.args.get("name")
                if isinstance(name, ast.StringValueNode):
                    self.used_features.add("context")
                    t.directives.append(
                        directive("context", name=f"{self.names[idx]}__{name.value}")
                    )

    def check_extension_with_no_base(self, t: MType, sources: dict[int, SubType]) -> None:
        if t.name in ROOT_NAMES.values():
            return
        if any(s.has_definition for s in sources.values()):
            return
        for idx, s in sources.items():
            if s.has_extension:
                self.error(
                    codes.EXTENSION_WITH_NO_BASE,
                    f'[{self.names[idx]}] Type "{t.name}" is an extension type, but there is no '
                    f'type definition for "{t.name}" in any subgraph.',
                    subgraph=self.names[idx],
                    coordinate=t.name,
                )

    def add_join_types(self, t: MType, sources: dict[int, SubType]) -> None:
        defined_somewhere = any(s.has_definition and not s.extends for s in sources.values())
        for idx, sub in sources.items():
            itf_object = True if sub.is_interface_object else None
            if not sub.keys:
                t.directives.append(
                    directive("join__type", graph=self.graph(idx), isInterfaceObject=itf_object)
                )
                continue
            for key in sub.keys:
                extension = key.on_extension
                if not self.subgraphs[idx].fed2 and defined_somewhere:
                    # Apollo's fed1 upgrade turns `extend type` into a definition when a base
                    # exists elsewhere (an explicit @extends stays).
                    extension = False
                extension = extension or sub.extends
                resolvable_arg = next(
                    (a.value for a in key.node.arguments if a.name.value == "resolvable"), None
                )
                t.directives.append(
                    directive(
                        "join__type",
                        graph=self.graph(idx),
                        key=key.fields,
                        extension=True if extension else None,
                        resolvable=resolvable_arg,
                        isInterfaceObject=itf_object,
                    )
                )

    # -- descriptions and carried directives ---------------------------------------------------

    def merge_descriptions(self, descriptions: Iterable[str | None]) -> str | None:
        seen: list[str] = []
        counts: list[int] = []
        for d in descriptions:
            if d is None:
                continue
            if d in seen:
                counts[seen.index(d)] += 1
            else:
                seen.append(d)
                counts.append(-(10**9) if d == "" else 1)
        if not seen:
            return None
        non_empty = [d for d in seen if d != ""]
        if len(seen) == 1:
            return seen[0]
        if len(non_empty) == 1:
            return non_empty[0]
        return seen[counts.index(max(counts))]

    def is_carried(self, name: str) -> bool:
        return name in CARRIED_DIRECTIVES or name in self.compose or name in (
            "authenticated", "requiresScopes", "policy", "cost", "listSize",
        )  # fmt: skip

    def merge_applied(self, per_source: Iterable[list[Applied]]) -> list[ast.DirectiveNode]:
        """Carry @inaccessible/@tag/@deprecated/composed directives across, deduplicated."""
        by_name: dict[str, list[list[ast.DirectiveNode]]] = {}
        for directives in per_source:
            grouped: dict[str, list[ast.DirectiveNode]] = {}
            for d in directives:
                if self.is_carried(d.name):
                    node = ast.DirectiveNode(
                        name=ast.NameNode(value=d.name), arguments=d.node.arguments
                    )
                    grouped.setdefault(d.name, []).append(node)
            for name, nodes in grouped.items():
                by_name.setdefault(name, []).append(nodes)
        result: list[ast.DirectiveNode] = []
        for name, groups in by_name.items():
            self.used_features.add(name)
            if name in ("tag", "inaccessible") or self.is_repeatable(name):
                for nodes in groups:
                    for node in nodes:
                        if not any(same_application(node, r) for r in result):
                            result.append(node)
                continue
            distinct: list[ast.DirectiveNode] = []
            counts: list[int] = []
            for nodes in groups:
                node = nodes[0]
                for i, existing in enumerate(distinct):
                    if same_application(existing, node):
                        counts[i] += 1
                        break
                else:
                    distinct.append(node)
                    counts.append(1)
            result.append(distinct[counts.index(max(counts))])
        # Apollo applies @inaccessible as soon as it merges an element, the rest at the end.
        result.sort(key=lambda d: _DIRECTIVE_RANK.get(d.name.value, len(_DIRECTIVE_RANK)))
        return result

    def is_repeatable(self, name: str) -> bool:
        entry = self.compose.get(name)
        return bool(entry and entry[1].repeatable)

    # -- objects and interfaces ----------------------------------------------------------------

    def field_sources(self, t: MType, sources: dict[int, SubType]) -> dict[str, Sources]:
        """Field name -> {subgraph index: field or None}, over subgraphs that define the type."""
        present: Sources = {}
        for idx in range(len(self.subgraphs)):
            if idx in sources or self.has_interface_object_for(idx, t):
                present[idx] = None
        result: dict[str, Sources] = {}
        for idx, sub in sources.items():
            for f in sub.fields.values():
                result.setdefault(f.name, dict(present))[idx] = f
        return result

    def has_interface_object_for(self, idx: int, t: MType) -> bool:
        for itf in t.interfaces:
            sub = self.sub_type(idx, itf)
            if sub is not None and sub.is_interface_object:
                return True
        return False

    def merge_object(self, t: MType, sources: dict[int, SubType]) -> None:
        for name, fsources in self.field_sources(t, sources).items():
            dest = t.fields.setdefault(name, MField(name=name, parent=t.name))
            context = self.validate_override(dest, fsources)
            self.merge_field(dest, fsources, context)
            self.validate_sharing(dest, fsources, context)
        if not t.fields:
            del self.types[t.name]

    def merge_interface(self, t: MType, sources: dict[int, SubType]) -> None:
        self.validate_interface_keys(t, sources)
        self.validate_interface_objects(t, sources)
        for name, fsources in self.field_sources(t, sources).items():
            dest = t.fields.setdefault(name, MField(name=name, parent=t.name))
            context = self.validate_override(dest, fsources)
            self.merge_field(dest, fsources, context)

    def implementations(self, itf: str) -> list[str]:
        return [name for name, t in self.types.items() if t.kind == OBJECT and itf in t.interfaces]

    def validate_interface_keys(self, t: MType, sources: dict[int, SubType]) -> None:
        all_impls = self.implementations(t.name)
        for idx, sub in sources.items():
            if sub.kind != INTERFACE:
                continue
            resolvable = [k for k in sub.keys if k.resolvable]
            if not resolvable:
                continue
            subgraph = self.subgraphs[idx]
            local = {n for n, s in subgraph.types.items() if t.name in s.interfaces}
            missing = [i for i in all_impls if i not in local]
            if missing:
                self.error(
                    codes.INTERFACE_KEY_MISSING_IMPLEMENTATION_TYPE,
                    f'[{subgraph.name}] Interface type "{t.name}" has a resolvable key '
                    f'(@key(fields: "{resolvable[0].fields}")) in subgraph "{subgraph.name}" but '
                    f"that subgraph is missing some of the supergraph implementation types of "
                    f'"{t.name}". Subgraph "{subgraph.name}" should define '
                    + ", ".join(f'"{m}"' for m in missing)
                    + f' (and have them implement "{t.name}").',
                    subgraph=subgraph.name,
                    coordinate=t.name,
                )

    def validate_interface_objects(self, t: MType, sources: dict[int, SubType]) -> None:
        all_impls = self.implementations(t.name)
        for idx, sub in sources.items():
            if not sub.is_interface_object:
                continue
            subgraph = self.subgraphs[idx]
            defined = [i for i in all_impls if i in subgraph.types]
            if defined:
                self.error(
                    codes.INTERFACE_OBJECT_USAGE_ERROR,
                    f'[{subgraph.name}] Interface type "{t.name}" is defined as an '
                    f'@interfaceObject in subgraph "{subgraph.name}" so that subgraph should not '
                    f'define any of the implementation types of "{t.name}", but it defines '
                    + ", ".join(f'"{d}"' for d in defined),
                    subgraph=subgraph.name,
                    coordinate=t.name,
                )

    def validate_override(self, dest: MField, sources: Sources) -> _FieldContext:
        context = _FieldContext()
        overriding = {
            idx: f
            for idx, f in sources.items()
            if f is not None and f.applied("override") and self.subgraphs[idx].fed2
        }
        for idx, f in overriding.items():
            name = self.names[idx]
            parent = self.sub_type(idx, f.parent)
            if parent is not None and parent.kind == INTERFACE:
                self.error(
                    codes.OVERRIDE_ON_INTERFACE,
                    f'@override cannot be used on field "{dest.coordinate}" on subgraph "{name}": '
                    "@override is not supported on interface type fields.",
                    subgraph=name,
                    coordinate=dest.coordinate,
                )
                continue
            source_name = f.string_arg("override", "from") or ""
            label = f.string_arg("override", "label")
            if source_name not in self.names:
                self.hint(
                    "FROM_SUBGRAPH_DOES_NOT_EXIST",
                    f'Source subgraph "{source_name}" for field "{dest.coordinate}" on subgraph '
                    f'"{name}" does not exist.',
                    dest.coordinate,
                )
                continue
            from_idx = self.names.index(source_name)
            if source_name == name:
                self.error(
                    codes.OVERRIDE_FROM_SELF_ERROR,
                    f'Source and destination subgraphs "{name}" are the same for overridden field '
                    f'"{dest.coordinate}"',
                    subgraph=name,
                    coordinate=dest.coordinate,
                )
                continue
            if from_idx in overriding:
                self.error(
                    codes.OVERRIDE_SOURCE_HAS_OVERRIDE,
                    f'Field "{dest.coordinate}" on subgraph "{name}" is also marked with directive '
                    f'@override in subgraph "{source_name}". Only one @override directive is '
                    "allowed per field.",
                    subgraph=name,
                    coordinate=dest.coordinate,
                )
                continue
            from_field = sources.get(from_idx)
            if from_field is None:
                continue
            conflicting = next((d for d in ("requires", "provides") if from_field.applied(d)), None)
            if conflicting is None and f.external:
                conflicting = "external"
            if conflicting is not None:
                self.error(
                    codes.OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE,
                    f'@override cannot be used on field "{dest.coordinate}" on subgraph "{name}" '
                    f'since "{dest.coordinate}" on "{source_name if conflicting != "external" else name}" '
                    f'is marked with directive "@{conflicting}"',
                    subgraph=name,
                    coordinate=dest.coordinate,
                )
                continue
            if from_field.external:
                continue
            if self.usages[from_idx].is_used(from_field.parent, from_field.name):
                context.used_overridden.add(from_idx)
            else:
                context.unused_overridden.add(from_idx)
            if label is not None:
                if not _valid_override_label(label):
                    self.error(
                        codes.OVERRIDE_LABEL_INVALID,
                        f'Invalid @override label "{label}" on field "{dest.coordinate}" on '
                        f'subgraph "{name}": labels must start with a letter and after that may '
                        "contain alphanumerics, underscores, minuses, colons, periods, or "
                        'slashes. Alternatively, labels may be of the form "percent(x)" where x '
                        "is a float between 0-100 inclusive.",
                        subgraph=name,
                        coordinate=dest.coordinate,
                    )
                    continue
                context.labels[idx] = label
                context.labels[from_idx] = label
        return context

    def is_external(self, idx: int, f: SubField) -> bool:
        return f.external

    def merge_field(self, dest: MField, sources: Sources, context: _FieldContext) -> None:
        defined = {i: f for i, f in sources.items() if f is not None}
        if defined and all(self.is_external(i, f) for i, f in defined.items()):
            listed = ", ".join(f'"{self.names[i]}"' for i in defined)
            self.error(
                codes.EXTERNAL_MISSING_ON_BASE,
                f'Field "{dest.coordinate}" is marked @external on all the subgraphs in which it '
                f"is listed ({'subgraph' if len(defined) == 1 else 'subgraphs'} {listed}).",
                subgraph=self.names[next(iter(defined))],
                coordinate=dest.coordinate,
            )
            return
        resolving = {i: f for i, f in defined.items() if not self.is_external(i, f)}
        dest.description = self.merge_descriptions(f.description for f in resolving.values())
        dest.directives.extend(self.merge_applied(f.directives for f in resolving.values()))
        self.merge_arguments(dest, resolving)
        all_types_equal = self.merge_type_reference(
            dest, [f.type for f in resolving.values()], list(resolving), is_input=False
        )
        self.validate_external_types(dest, defined, all_types_equal)
        self.add_join_fields(dest, sources, all_types_equal, context)

    def merge_arguments(self, dest: MField, resolving: dict[int, SubField]) -> None:
        names: list[str] = []
        for f in resolving.values():
            names.extend(n for n in f.args if n not in names)
        for name in names:
            if any(
                name in f.args and _from_context(f.args[name]) is not None
                for f in resolving.values()
            ):
                continue  # contextual arguments are filled by the gateway, never by clients
            missing = [i for i, f in resolving.items() if name not in f.args]
            if missing:
                required = [
                    i
                    for i, f in resolving.items()
                    if name in f.args
                    and isinstance(f.args[name].type, ast.NonNullTypeNode)
                    and f.args[name].default is None
                ]
                if required:
                    self.error(
                        codes.REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH,
                        f'Argument "{dest.coordinate}({name}:)" is required in some subgraphs but '
                        "does not appear in all subgraphs: it is required in "
                        + ", ".join(f'"{self.names[i]}"' for i in required)
                        + " but does not appear in "
                        + ", ".join(f'"{self.names[i]}"' for i in missing),
                        subgraph=self.names[missing[0]],
                        coordinate=f"{dest.coordinate}({name}:)",
                    )
                else:
                    self.hint(
                        "INCONSISTENT_ARGUMENT_PRESENCE",
                        f'Optional argument "{dest.coordinate}({name}:)" will not be included in '
                        "the supergraph as it does not appear in all subgraphs",
                        dest.coordinate,
                    )
                continue
            args: dict[int, SubArg] = {i: f.args[name] for i, f in resolving.items()}
            arg = MArg(name=name)
            arg.description = self.merge_descriptions(a.description for a in args.values())
            arg.directives = self.merge_applied(a.directives for a in args.values())
            coordinate = f"{dest.coordinate}({name}:)"
            holder = MField(name=name, parent=dest.coordinate)
            self.merge_type_reference(
                holder, [a.type for a in args.values()], list(args), is_input=True,
                coordinate=coordinate, kind="argument",
            )  # fmt: skip
            arg.type = holder.type
            arg.default = self.merge_default(
                [a.default for a in args.values()], list(args), coordinate, "Argument"
            )
            dest.args[name] = arg

    def merge_default(
        self,
        defaults: list[ast.ValueNode | None],
        indexes: list[int],
        coordinate: str,
        kind: str,
    ) -> ast.ValueNode | None:
        printed = [print_ast(d) if d is not None else None for d in defaults]
        given = {p for p in printed if p is not None}
        if len(given) > 1:
            self.error(
                codes.FIELD_ARGUMENT_DEFAULT_MISMATCH if kind == "Argument"
                else codes.INPUT_FIELD_DEFAULT_MISMATCH,
                f'{kind} "{coordinate}" has incompatible default values across subgraphs: it has '
                + " and ".join(
                    f'default value {p} in "{self.names[i]}"' if p is not None
                    else f'no default value in "{self.names[i]}"'
                    for p, i in zip(printed, indexes)
                ),
                subgraph=self.names[indexes[0]],
                coordinate=coordinate,
            )  # fmt: skip
            return defaults[0]
        if given and None in printed:
            return None  # inconsistent presence: Apollo drops the default (with a hint)
        return defaults[0] if defaults else None

    def merge_type_reference(
        self,
        dest: MField,
        types: list[ast.TypeNode],
        indexes: list[int],
        *,
        is_input: bool,
        coordinate: str | None = None,
        kind: str = "field",
    ) -> bool:
        merged: ast.TypeNode | None = None
        has_subtypes = incompatible = False
        for t in types:
            if merged is None or same_type(merged, t):
                merged = t
            elif self.is_strict_subtype(merged, t):
                has_subtypes = True
                if is_input:
                    merged = t
            elif self.is_strict_subtype(t, merged):
                has_subtypes = True
                if not is_input:
                    merged = t
            else:
                incompatible = True
        assert merged is not None
        dest.type = merged
        base = named_type(merged)
        if base in self.types and self.types[base].kind == ENUM:
            position = "Input" if is_input else "Output"
            existing = self.enum_usage.get(base)
            self.enum_usage[base] = position if existing in (None, position) else "Both"
        if incompatible:
            coordinate = coordinate or dest.coordinate
            self.error(
                codes.FIELD_ARGUMENT_TYPE_MISMATCH
                if kind == "argument"
                else codes.FIELD_TYPE_MISMATCH,
                f'Type of {kind} "{coordinate}" is incompatible across subgraphs: it has '
                + " and ".join(
                    f'type "{print_ast(t)}" in "{self.names[i]}"' for t, i in zip(types, indexes)
                ),
                subgraph=self.names[indexes[-1]],
                coordinate=coordinate,
            )
            return False
        return not has_subtypes

    def is_strict_subtype(self, general: ast.TypeNode, sub: ast.TypeNode) -> bool:
        """Apollo's default rules: direct, nonNullable_downgrade, and propagation through wrappers."""
        if isinstance(sub, ast.NonNullTypeNode):
            if isinstance(general, ast.NonNullTypeNode):
                return self.is_strict_subtype(general.type, sub.type)
            return same_type(general, sub.type) or self.is_strict_subtype(general, sub.type)
        if isinstance(sub, ast.ListTypeNode):
            if isinstance(general, ast.ListTypeNode):
                return self.is_strict_subtype(general.type, sub.type)
            return False
        if not isinstance(general, ast.NamedTypeNode) or not isinstance(sub, ast.NamedTypeNode):
            return False
        target = self.types.get(general.name.value)
        member = sub.name.value
        if target is None:
            return False
        if target.kind == UNION:
            return member in target.members
        if target.kind == INTERFACE:
            impl = self.types.get(member)
            return impl is not None and general.name.value in impl.interfaces
        return False

    def validate_external_types(
        self, dest: MField, defined: dict[int, SubField], all_types_equal: bool
    ) -> None:
        assert dest.type is not None
        bad = [
            i
            for i, f in defined.items()
            if self.is_external(i, f)
            and not same_type(dest.type, f.type)
            and not (not all_types_equal and self.is_strict_subtype(dest.type, f.type))
        ]
        if bad:
            self.error(
                codes.EXTERNAL_TYPE_MISMATCH,
                f'Type of field "{dest.coordinate}" is incompatible across subgraphs (where marked '
                "@external): it has "
                + " and ".join(
                    f'type "{print_ast(f.type)}" in "{self.names[i]}"' for i, f in defined.items()
                ),
                subgraph=self.names[bad[0]],
                coordinate=dest.coordinate,
            )

    def needs_join_field(
        self, parent: str, sources: Sources, all_types_equal: bool, context: _FieldContext
    ) -> bool:
        if not all_types_equal or context.used_overridden or context.labels:
            return True
        if any(
            f is not None and any(_from_context(a) is not None for a in f.args.values())
            for f in sources.values()
        ):
            return True
        for idx, f in sources.items():
            if f is not None and idx not in context.unused_overridden:
                if f.external or f.applied("provides") or f.applied("requires"):
                    return True
            elif self.sub_type(idx, parent) is not None:
                return True
        return False

    def add_join_fields(
        self, dest: MField, sources: Sources, all_types_equal: bool, context: _FieldContext
    ) -> None:
        if not self.needs_join_field(dest.parent, sources, all_types_equal, context):
            return
        for idx, f in sources.items():
            label = context.labels.get(idx)
            if f is None or (idx in context.unused_overridden and label is None):
                continue
            # Apollo applies @inaccessible first, then join__field, then the other directives.
            dest.directives.insert(
                sum(1 for d in dest.directives if d.name.value in ("join__field", "inaccessible")),
                directive(
                    "join__field",
                    graph=self.graph(idx),
                    requires=f.string_arg("requires", "fields"),
                    provides=f.string_arg("provides", "fields"),
                    override=f.string_arg("override", "from") if self.subgraphs[idx].fed2 else None,
                    type=None if all_types_equal else print_ast(f.type),
                    external=True if f.external else None,
                    usedOverridden=True if idx in context.used_overridden else None,
                    overrideLabel=label,
                    contextArguments=self.context_arguments(idx, f) or None,
                ),
            )

    def context_arguments(self, idx: int, f: SubField) -> list[dict[str, str]]:
        result = []
        for arg in f.args.values():
            value = _from_context(arg)
            match = _CONTEXT_FIELD.match(value or "")
            if match is not None:
                result.append(
                    {
                        "context": f"{self.names[idx]}__{match.group(1)}",
                        "name": arg.name,
                        "type": print_ast(arg.type),
                        "selection": match.group(2),
                    }
                )
        return result

    def is_fully_external(self, idx: int, f: SubField) -> bool:
        return f.external and (f.parent, f.name) not in self.usages[idx].provided

    def validate_sharing(self, dest: MField, sources: Sources, context: _FieldContext) -> None:
        shareable: list[int] = []
        non_shareable: list[int] = []
        for idx, f in sources.items():
            if f is None:
                itf_fields = self.interface_object_fields(dest, idx)
                for itf_field in itf_fields:
                    if not self.is_fully_external(idx, itf_field):
                        (shareable if self.is_shareable(idx, itf_field) else non_shareable).append(
                            idx
                        )
                continue
            if idx in context.used_overridden or idx in context.unused_overridden:
                continue
            if self.is_fully_external(idx, f):
                continue
            (shareable if self.is_shareable(idx, f) else non_shareable).append(idx)
        if non_shareable and (shareable or len(non_shareable) > 1):
            resolving = sorted(shareable + non_shareable)
            which = (
                ", ".join(f'"{self.names[i]}"' for i in non_shareable)
                if shareable
                else "all of them"
            )
            self.error(
                codes.INVALID_FIELD_SHARING,
                f'Non-shareable field "{dest.coordinate}" is resolved from multiple subgraphs: it '
                "is resolved from subgraphs "
                + ", ".join(f'"{self.names[i]}"' for i in resolving)
                + f" and defined as non-shareable in {which}",
                subgraph=self.names[non_shareable[0]],
                coordinate=dest.coordinate,
            )

    def is_shareable(self, idx: int, f: SubField) -> bool:
        if f.shareable or not self.subgraphs[idx].fed2:
            return True
        return (f.parent, f.name) in self.usages[idx].key_fields and bool(
            (self.sub_type(idx, f.parent) or SubType(kind=OBJECT, name="")).keys
        )

    def interface_object_fields(self, dest: MField, idx: int) -> list[SubField]:
        parent = self.types.get(dest.parent)
        if parent is None or parent.kind != OBJECT or self.sub_type(idx, dest.parent) is not None:
            return []
        found = []
        for itf in parent.interfaces:
            sub = self.sub_type(idx, itf)
            if sub is not None and sub.is_interface_object and dest.name in sub.fields:
                found.append(sub.fields[dest.name])
        return found

    def add_interface_object_fields(self) -> None:
        """Fields an @interfaceObject adds to an interface reach every implementation."""
        for t in list(self.types.values()):
            if t.kind != OBJECT:
                continue
            for itf_name in t.interfaces:
                itf = self.types.get(itf_name)
                if itf is None:
                    continue
                for itf_field in itf.fields.values():
                    if itf_field.name in t.fields or not self.provided_by_interface_object(
                        itf_field.name, itf_name
                    ):
                        continue
                    added = MField(
                        name=itf_field.name,
                        parent=t.name,
                        type=itf_field.type,
                        description=itf_field.description,
                        args=itf_field.args,
                        directives=[
                            d for d in itf_field.directives if not d.name.value.startswith("join__")
                        ],
                    )
                    added.directives.insert(0, directive("join__field"))
                    t.fields[added.name] = added

    def provided_by_interface_object(self, field_name: str, itf_name: str) -> bool:
        for subgraph in self.subgraphs:
            sub = subgraph.types.get(itf_name)
            if sub is not None and sub.is_interface_object:
                f = sub.fields.get(field_name)
                if f is not None and not f.external:
                    return True
        return False

    # -- unions, enums, inputs ---------------------------------------------------------------

    def merge_union(self, t: MType, sources: dict[int, SubType]) -> None:
        for sub in sources.values():
            t.members.extend(m for m in sub.members if m not in t.members)
        for member in t.members:
            for idx, sub in sources.items():
                if member in sub.members:
                    t.directives.append(
                        directive("join__unionMember", graph=self.graph(idx), member=member)
                    )

    def merge_enum(self, t: MType, sources: dict[int, SubType]) -> None:
        usage = self.enum_usage.get(t.name)
        if usage is None:
            usage = "Output"
            self.hint(
                "UNUSED_ENUM_TYPE",
                f'Enum type "{t.name}" is defined but unused. It will be included in the '
                "supergraph with all the values appearing in any subgraph.",
                t.name,
            )
        names: list[str] = []
        for sub in sources.values():
            names.extend(v for v in sub.values if v not in names)
        for name in names:
            value_sources = {i: s.values[name] for i, s in sources.items() if name in s.values}
            value = MEnumValue(name=name)
            value.description = self.merge_descriptions(
                v.description for v in value_sources.values()
            )
            value.directives = self.merge_applied(v.directives for v in value_sources.values())
            for idx in value_sources:
                value.directives.insert(
                    sum(
                        1
                        for d in value.directives
                        if d.name.value in ("join__enumValue", "inaccessible")
                    ),
                    directive("join__enumValue", graph=self.graph(idx)),
                )
            inaccessible = any(d.name.value == "inaccessible" for d in value.directives)
            missing = [i for i in sources if i not in value_sources]
            if missing and not inaccessible and usage != "Output":
                if usage == "Both":
                    self.error(
                        codes.ENUM_VALUE_MISMATCH,
                        f'Enum type "{t.name}" is used as both input type and output type, but '
                        f'value "{name}" is not defined in all the subgraphs defining "{t.name}": '
                        f'"{name}" is defined in '
                        + ", ".join(f'"{self.names[i]}"' for i in value_sources)
                        + " but not in "
                        + ", ".join(f'"{self.names[i]}"' for i in missing),
                        subgraph=self.names[missing[0]],
                        coordinate=f"{t.name}.{name}",
                    )
                else:
                    self.hint(
                        "INCONSISTENT_ENUM_VALUE_FOR_INPUT_ENUM",
                        f'Value "{name}" of enum type "{t.name}" will not be part of the '
                        "supergraph as it is not defined in all the subgraphs",
                        f"{t.name}.{name}",
                    )
                    continue
            t.values[name] = value
        if not t.values:
            self.error(
                codes.EMPTY_MERGED_ENUM_TYPE,
                f'None of the values of enum type "{t.name}" are defined consistently in all the '
                "subgraphs defining that type. As only values common to all subgraphs are "
                "merged, this would result in an empty type.",
                coordinate=t.name,
            )

    def merge_input(self, t: MType, sources: dict[int, SubType]) -> None:
        names: list[str] = []
        for sub in sources.values():
            names.extend(n for n in sub.fields if n not in names)
        for name in names:
            present = {i: s.fields[name] for i, s in sources.items() if name in s.fields}
            dest = MField(name=name, parent=t.name)
            dest.description = self.merge_descriptions(f.description for f in present.values())
            dest.directives = self.merge_applied(f.directives for f in present.values())
            all_equal = self.merge_type_reference(
                dest, [f.type for f in present.values()], list(present), is_input=True
            )
            fsources: Sources = {i: present.get(i) for i in sources}
            self.add_join_fields(dest, fsources, all_equal, _FieldContext())
            dest.default = self.merge_default(
                [f.node.default_value for f in present.values()],  # type: ignore[attr-defined]
                list(present),
                dest.coordinate,
                "Input field",
            )
            inaccessible = any(d.name.value == "inaccessible" for d in dest.directives)
            missing = [i for i in sources if i not in present]
            if missing and not inaccessible:
                required = [
                    i
                    for i, f in present.items()
                    if isinstance(f.type, ast.NonNullTypeNode) and f.node.default_value is None  # type: ignore[attr-defined]
                ]
                if required:
                    self.error(
                        codes.REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH,
                        f'Input object field "{dest.coordinate}" is required in some subgraphs '
                        "but does not appear in all subgraphs: it is required in "
                        + ", ".join(f'"{self.names[i]}"' for i in required)
                        + " but does not appear in "
                        + ", ".join(f'"{self.names[i]}"' for i in missing),
                        subgraph=self.names[missing[0]],
                        coordinate=dest.coordinate,
                    )
                else:
                    self.hint(
                        "INCONSISTENT_INPUT_OBJECT_FIELD",
                        f'Input object field "{name}" will not be added to "{t.name}" in the '
                        "supergraph as it does not appear in all subgraphs",
                        dest.coordinate,
                    )
                continue
            t.fields[name] = dest
        if not t.fields:
            self.error(
                codes.EMPTY_MERGED_INPUT_TYPE,
                f'None of the fields of input object type "{t.name}" are consistently defined in '
                "all the subgraphs defining that type. As only fields common to all subgraphs "
                "are merged, this would result in an empty type.",
                coordinate=t.name,
            )

    def merge_executable_directives(self) -> None:
        """Executable directives defined in every subgraph reach the supergraph (their common part)."""
        self.executable: list[ast.DirectiveDefinitionNode] = []
        names: list[str] = []
        for subgraph in self.subgraphs:
            for name, node in subgraph.directive_defs.items():
                if name not in names and name not in self.compose and _executable_locations(node):
                    names.append(name)
        for name in names:
            nodes = [s.directive_defs.get(name) for s in self.subgraphs]
            if any(n is None for n in nodes):
                self.hint(
                    "INCONSISTENT_EXECUTABLE_DIRECTIVE_PRESENCE",
                    f'Executable directive "@{name}" will not be part of the supergraph as it does '
                    "not appear in all subgraphs",
                )
                continue
            defined = [n for n in nodes if n is not None]
            locations = _executable_locations(defined[0])
            for node in defined[1:]:
                others = _executable_locations(node)
                locations = [loc for loc in locations if loc in others]
            if not locations:
                continue
            holder = MField(name=name, parent="@")
            fields = {
                i: SubField(
                    name=name,
                    parent="@",
                    type=ast.NamedTypeNode(name=ast.NameNode(value="Boolean")),
                    args={
                        a.name.value: SubArg(
                            name=a.name.value,
                            type=a.type,
                            default=a.default_value,
                            description=a.description.value if a.description else None,
                            directives=[],
                        )
                        for a in node.arguments or ()
                    },
                    description=None,
                    directives=[],
                    node=node,
                )
                for i, node in enumerate(defined)
            }
            self.merge_arguments(holder, fields)
            descriptions = [n.description.value for n in defined if n.description is not None]
            self.executable.append(
                ast.DirectiveDefinitionNode(
                    name=ast.NameNode(value=name),
                    description=(
                        ast.StringValueNode(value=self.merge_descriptions(descriptions), block=True)
                        if descriptions
                        else None
                    ),
                    arguments=tuple(
                        ast.InputValueDefinitionNode(
                            name=ast.NameNode(value=a.name),
                            type=a.type,
                            default_value=a.default,
                            directives=(),
                        )
                        for a in holder.args.values()
                    ),
                    repeatable=all(n.repeatable for n in defined),
                    locations=tuple(ast.NameNode(value=loc) for loc in locations),
                )
            )

    # -- output --------------------------------------------------------------------------------

    def finish(self) -> Supergraph:
        join_version = (
            (0, 5) if self.version >= (2, 8) else (0, 4) if self.version >= (2, 7) else (0, 3)
        )
        links = [
            directive("link", url="https://specs.apollo.dev/link/v1.0"),
            directive(
                "link",
                url=f"https://specs.apollo.dev/join/v{join_version[0]}.{join_version[1]}",
                **{"for": EnumLiteral("EXECUTION")},
            ),
        ]
        definitions: list[str] = []
        for feature, (url, purpose, texts) in SPEC_FEATURES.items():
            if feature in self.used_features:
                links.append(
                    directive(
                        "link",
                        url=url,
                        **{"for": EnumLiteral(purpose) if purpose else None},
                    )
                )
                definitions.extend(texts)
        if self.used_features & {"cost", "listSize"}:
            list_size = "listSize" if "listSize" in self.used_features else "cost__listSize"
            links.append(
                directive(
                    "link",
                    url="https://specs.apollo.dev/cost/v0.1",
                    **{"import": ["@listSize"] if list_size == "listSize" else None},
                )
            )
            definitions.append(
                "directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | "
                "INPUT_FIELD_DEFINITION | OBJECT | SCALAR"
            )
            definitions.append(
                f"directive @{list_size}(assumedSize: Int, slicingArguments: [String!], "
                "sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on "
                "FIELD_DEFINITION"
            )
        links.extend(self.compose_links())
        definitions.extend(print_ast(node) for _, node in self.compose.values())
        definitions.extend(print_ast(node) for node in self.executable)
        roots = {op: name for op, name in ROOT_NAMES.items() if name in self.types}
        return Supergraph(
            types=self.types,
            schema_links=links,
            roots=roots,
            join_version=join_version,
            directive_definitions=definitions,
            graphs=[(self.graph_names[s.name], s.name, s.url) for s in self.subgraphs],
        )

    def compose_links(self) -> list[ast.DirectiveNode]:
        links: list[ast.DirectiveNode] = []
        seen: set[str] = set()
        for name, (idx, _) in self.compose.items():
            for spec in self.subgraphs[idx].links:
                for original, local in spec.imports:
                    if local != name or spec.url in seen:
                        continue
                    seen.add(spec.url)
                    imports = [
                        f"@{o}" if o == loc else {"name": f"@{o}", "as": f"@{loc}"}
                        for o, loc in spec.imports
                        if loc in self.compose
                    ]
                    links.append(directive("link", url=spec.url, **{"import": imports}))
        return links


_ACCESS_LOCATIONS = "FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM"
# Specs whose directives composition carries into the supergraph: link url, purpose, definitions.
SPEC_FEATURES: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "inaccessible": (
        "https://specs.apollo.dev/inaccessible/v0.2",
        "SECURITY",
        (
            (
                "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | "
                "ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | "
                "INPUT_FIELD_DEFINITION"
            ),
        ),
    ),
    "tag": (
        "https://specs.apollo.dev/tag/v0.3",
        None,
        (
            (
                "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | "
                "INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | "
                "INPUT_OBJECT | INPUT_FIELD_DEFINITION | SCHEMA"
            ),
        ),
    ),
    "authenticated": (
        "https://specs.apollo.dev/authenticated/v0.1",
        "SECURITY",
        (f"directive @authenticated on {_ACCESS_LOCATIONS}",),
    ),
    "requiresScopes": (
        "https://specs.apollo.dev/requiresScopes/v0.1",
        "SECURITY",
        (
            "directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on "
            + _ACCESS_LOCATIONS,
            "scalar requiresScopes__Scope",
        ),
    ),
    "policy": (
        "https://specs.apollo.dev/policy/v0.1",
        "SECURITY",
        (
            f"directive @policy(policies: [[policy__Policy!]!]!) on {_ACCESS_LOCATIONS}",
            "scalar policy__Policy",
        ),
    ),
    "context": (
        "https://specs.apollo.dev/context/v0.1",
        "SECURITY",
        (
            "directive @context(name: String!) repeatable on INTERFACE | OBJECT | UNION",
            (
                "directive @context__fromContext(field: context__ContextFieldValue) on "
                "ARGUMENT_DEFINITION"
            ),
            "scalar context__ContextFieldValue",
        ),
    ),
}


# Where Apollo places carried directives: @inaccessible first, then the access-control ones.
_DIRECTIVE_RANK = {"inaccessible": 0, "authenticated": 1, "requiresScopes": 2, "policy": 3}
_LABEL = re.compile(r"^[a-zA-Z][a-zA-Z0-9_\-:./]*$")
_PERCENT_LABEL = re.compile(r"^percent\((\d{1,2}(\.\d{1,8})?|100)\)$")


def _valid_override_label(label: str) -> bool:
    return bool(_LABEL.match(label) or _PERCENT_LABEL.match(label))


_CONTEXT_FIELD = re.compile(r"^\s*\$([A-Za-z_]\w*)([\s\S]*)$")


def _from_context(arg: SubArg) -> str | None:
    for applied in arg.directives:
        if applied.name == "fromContext":
            value = applied.args.get("field")
            return value.value if isinstance(value, ast.StringValueNode) else ""
    return None


_EXECUTABLE_LOCATIONS = (
    "QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION", "FRAGMENT_SPREAD",
    "INLINE_FRAGMENT", "VARIABLE_DEFINITION",
)  # fmt: skip


def _executable_locations(node: ast.DirectiveDefinitionNode) -> list[str]:
    return [loc.value for loc in node.locations if loc.value in _EXECUTABLE_LOCATIONS]


def same_type(a: ast.TypeNode, b: ast.TypeNode) -> bool:
    """Structural equality of type references (printing them is far slower)."""
    while True:
        if type(a) is not type(b):
            return False
        if isinstance(a, ast.NamedTypeNode):
            assert isinstance(b, ast.NamedTypeNode)
            return a.name.value == b.name.value
        a, b = a.type, b.type  # type: ignore[attr-defined]
