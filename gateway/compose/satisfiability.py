"""Satisfiability: every field reachable from a root must be resolvable by some query plan.

A simplified version of Apollo's `validate.ts`: walk the supergraph from each root field, tracking
the set of subgraphs a plan could be in at each type. A field is satisfiable when a subgraph in the
key-closure of that set resolves it (not @external unless provided here, not overridden away) and
its @requires are themselves satisfiable without a cycle. Each failure names the query path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graphql import GraphQLSyntaxError, print_ast
from graphql.language import ast

from . import errors as codes
from ._model import MType
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
from .merge import Supergraph

_Provided = dict[int, ast.SelectionSetNode]


@dataclass(frozen=True, slots=True)
class _State:
    type_name: str
    candidates: frozenset[int]
    provided: tuple[tuple[int, str], ...]  # (subgraph, printed provided selection) for memo keys


def _selection(field_set: str) -> ast.SelectionSetNode | None:
    try:
        return parse_field_set(field_set)
    except GraphQLSyntaxError:
        return None


def _top_level(selection: ast.SelectionSetNode | None) -> dict[str, ast.FieldNode]:
    if selection is None:
        return {}
    return {s.name.value: s for s in selection.selections if isinstance(s, ast.FieldNode)}


class _Checker:
    def __init__(self, supergraph: Supergraph, subgraphs: Sequence[Subgraph]) -> None:
        self.types = supergraph.types
        self.subgraphs = list(subgraphs)
        self.errors: list[CompositionError] = []
        self.reported: set[str] = set()
        self.seen: set[_State] = set()
        self.overridden = self.collect_overridden()

    def collect_overridden(self) -> set[tuple[str, str, int]]:
        names = [s.name for s in self.subgraphs]
        result: set[tuple[str, str, int]] = set()
        for sub in self.subgraphs:
            if not sub.fed2:
                continue
            for t in sub.types.values():
                for f in t.fields.values():
                    source = f.string_arg("override", "from")
                    if source in names and f.string_arg("override", "label") is None:
                        result.add((t.name, f.name, names.index(source)))
        return result

    # -- what one subgraph knows ---------------------------------------------------------------

    def owner_types(self, idx: int, type_name: str) -> list[SubType]:
        """The type itself, or @interfaceObject interfaces standing in for it in that subgraph."""
        subgraph = self.subgraphs[idx]
        found = [subgraph.types[type_name]] if type_name in subgraph.types else []
        t = self.types.get(type_name)
        for itf in t.interfaces if t is not None else ():
            sub = subgraph.types.get(itf)
            if sub is not None and sub.is_interface_object:
                found.append(sub)
        return found

    def field_in(self, idx: int, type_name: str, field_name: str) -> SubField | None:
        for owner in self.owner_types(idx, type_name):
            if field_name in owner.fields:
                return owner.fields[field_name]
        return None

    def resolves(
        self, idx: int, type_name: str, field_name: str, provided: _Provided
    ) -> SubField | None:
        f = self.field_in(idx, type_name, field_name)
        if f is None or (type_name, field_name, idx) in self.overridden:
            return None
        if f.external and field_name not in _top_level(provided.get(idx)):
            return None
        return f

    def key_closure(self, type_name: str, start: frozenset[int], provided: _Provided) -> set[int]:
        """Subgraphs a plan can reach for this type by following resolvable keys from `start`."""
        reached = set(start)
        changed = True
        while changed:
            changed = False
            for idx in range(len(self.subgraphs)):
                if idx in reached:
                    continue
                for owner in self.owner_types(idx, type_name):
                    if any(
                        key.resolvable
                        and self.key_available(type_name, key.fields, reached, provided)
                        for key in owner.keys
                    ):
                        reached.add(idx)
                        changed = True
                        break
        return reached

    def key_available(
        self, type_name: str, fields: str, reached: set[int], provided: _Provided
    ) -> bool:
        names = _top_level(_selection(fields))
        return bool(names) and all(
            any(self.resolves(i, type_name, name, provided) for i in reached) for name in names
        )

    def requires_ok(
        self,
        type_name: str,
        idx: int,
        f: SubField,
        reached: set[int],
        visiting: frozenset[tuple[str, str, int]],
        provided: _Provided | None = None,
    ) -> bool:
        required = f.string_arg("requires", "fields")
        if required is None:
            return True
        # Like Apollo's query graph, the conditions are fetched starting from the requiring
        # subgraph's own entity, whatever subgraph the plan came from - unless a @provides on
        # the way here already put them in that subgraph's response.
        here = _top_level((provided or {}).get(idx))
        reached = self.key_closure(type_name, frozenset({idx}), {})
        for name in _top_level(_selection(required)):
            if name in here:
                continue
            if not any(
                self.resolvable_without_cycle(type_name, name, other, reached, visiting)
                for other in reached
                if other != idx
            ):
                return False
        return True

    def resolvable_without_cycle(
        self,
        type_name: str,
        field_name: str,
        idx: int,
        reached: set[int],
        visiting: frozenset[tuple[str, str, int]],
    ) -> bool:
        marker = (type_name, field_name, idx)
        if marker in visiting:
            return False
        f = self.resolves(idx, type_name, field_name, {})
        return f is not None and self.requires_ok(type_name, idx, f, reached, visiting | {marker})

    # -- the walk ------------------------------------------------------------------------------

    def check(self) -> list[CompositionError]:
        for root in ("Query", "Mutation", "Subscription"):
            if root in self.types:
                self.visit(
                    self.types[root],
                    frozenset(range(len(self.subgraphs))),
                    {},
                    path=(),
                    root=root,
                )
        return self.errors

    def visit(
        self,
        t: MType,
        candidates: frozenset[int],
        provided: _Provided,
        *,
        path: tuple[str, ...],
        root: str,
    ) -> None:
        state = _State(
            t.name,
            candidates,
            tuple(sorted((i, print_ast(s)) for i, s in provided.items())),
        )
        if state in self.seen or not candidates:
            return
        self.seen.add(state)
        if t.kind == UNION:
            for member in t.members:
                inside = frozenset(
                    i for i in candidates
                    if member in getattr(self.subgraphs[i].types.get(t.name), "members", ())
                )  # fmt: skip
                self.visit_named(member, inside, {}, path=path + (f"... on {member}",), root=root)
            return
        if t.kind == INTERFACE:
            for impl in (n for n, o in self.types.items() if t.name in o.interfaces):
                # A subgraph only returns the implementations it declares as such.
                inside = frozenset(
                    i
                    for i in candidates
                    if t.name in getattr(self.subgraphs[i].types.get(impl), "interfaces", ())
                )
                self.visit_named(impl, inside, {}, path=path + (f"... on {impl}",), root=root)
        if t.kind not in (OBJECT, INTERFACE):
            return
        reached = self.key_closure(t.name, candidates, provided) if path else set(candidates)
        for mfield in t.fields.values():
            if any(d.name.value == "inaccessible" for d in mfield.directives):
                continue
            resolving = frozenset(
                i
                for i in reached
                if (f := self.resolves(i, t.name, mfield.name, provided)) is not None
                and self.requires_ok(
                    t.name, i, f, reached, frozenset({(t.name, mfield.name, i)}), provided
                )
            )
            field_path = path + (mfield.name,)
            if not resolving:
                self.report(t, mfield.name, candidates, field_path, root)
                continue
            child = self.types.get(named_type(mfield.type)) if mfield.type is not None else None
            if child is None or child.kind not in (OBJECT, INTERFACE, UNION):
                continue
            child_provided: _Provided = {}
            for i in resolving:
                f = self.resolves(i, t.name, mfield.name, provided)
                selection = _selection(f.string_arg("provides", "fields") or "") if f else None
                nested = _top_level(provided.get(i)).get(mfield.name)
                if selection is not None and selection.selections:
                    child_provided[i] = selection
                elif nested is not None and nested.selection_set is not None:
                    child_provided[i] = nested.selection_set
            self.visit(child, resolving, child_provided, path=field_path, root=root)

    def visit_named(
        self,
        name: str,
        candidates: frozenset[int],
        provided: _Provided,
        *,
        path: tuple[str, ...],
        root: str,
    ) -> None:
        t = self.types.get(name)
        if t is not None:
            self.visit(t, candidates, provided, path=path, root=root)

    def report(
        self,
        t: MType,
        field_name: str,
        candidates: frozenset[int],
        path: tuple[str, ...],
        root: str,
    ) -> None:
        coordinate = f"{t.name}.{field_name}"
        if coordinate in self.reported:
            return
        self.reported.add(coordinate)
        query = _print_path(root, path)
        reasons = []
        for idx in sorted(candidates):
            name = self.subgraphs[idx].name
            lines = [f'- from subgraph "{name}":']
            local = self.field_in(idx, t.name, field_name)
            if local is not None and not local.external and local.string_arg("requires", "fields"):
                lines.append(
                    f'  - cannot satisfy @requires(fields: "{local.string_arg("requires", "fields")}")'
                    f' on field "{coordinate}": the required fields cannot be fetched through '
                    "a resolvable @key from this subgraph, or depend on the field itself (a "
                    "@requires cycle)."
                )
            else:
                lines.append(f'  - cannot find field "{coordinate}".')
            for other, subgraph in enumerate(self.subgraphs):
                f = self.field_in(other, t.name, field_name)
                if other == idx or f is None or f.external:
                    continue
                owners = self.owner_types(other, t.name)
                if not any(k.resolvable for o in owners for k in o.keys):
                    why = f'type "{t.name}" has no resolvable @key defined in subgraph "{subgraph.name}"'
                elif f.string_arg("requires", "fields") is not None:
                    why = "its @requires cannot be satisfied (unreachable or cyclic conditions)"
                else:
                    why = f'none of the @key of "{t.name}" in "{subgraph.name}" can be fetched'
                lines.append(
                    f'  - cannot move to subgraph "{subgraph.name}", which has field '
                    f'"{coordinate}", because {why}.'
                )
            reasons.extend(lines)
        self.errors.append(
            CompositionError(
                codes.SATISFIABILITY_ERROR,
                "The following supergraph API query:\n"
                + query
                + "\ncannot be satisfied by the subgraphs because:\n"
                + "\n".join(reasons),
                self.subgraphs[min(candidates)].name if candidates else None,
                coordinate,
            )
        )


def _print_path(root: str, path: tuple[str, ...]) -> str:
    operation = {"Query": "", "Mutation": "mutation ", "Subscription": "subscription "}[root]
    lines = [operation + "{"]
    for depth, step in enumerate(path, start=1):
        last = depth == len(path)
        lines.append("  " * depth + step + ("" if last else " {"))
    for depth in range(len(path) - 1, 0, -1):
        lines.append("  " * depth + "}")
    lines.append("}")
    return "\n".join(lines)


def check_satisfiability(
    supergraph: Supergraph, subgraphs: Sequence[Subgraph]
) -> list[CompositionError]:
    """Return one SATISFIABILITY_ERROR per unreachable field, each with the query that fails."""
    return _Checker(supergraph, subgraphs).check()
