"""Walks a normalised operation over the supergraph and builds the fetch dependency graph."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLSchema

from ..supergraph.model import JoinField, ServiceName
from .fieldset import FieldSetField, field_set_names, parse_field_set
from .graph import Hop, SubgraphView
from .operation import CField, CFragment, CSelection, fragment_applies
from .plan import InputField, InputFragment
from .selection import Selection


class PlanningError(Exception):
    """No subgraph path can satisfy part of the operation (a composition bug or a planner gap)."""


# An input tree: `tree_key -> [source, subtree | None, is_key]`, what a representation is
# read from. Groups build them from specs and merge_siblings merges them; both use these.
InputTree = dict[str, list]  # type: ignore[type-arg]


@dataclass(eq=False, kw_only=True)
class FetchGroup:
    id: int
    subgraph: ServiceName
    merge_at: tuple[str, ...]
    is_entity: bool
    root_kind: str = "query"
    selection: Selection = field(default_factory=Selection)
    inputs: dict[tuple[str, str], InputTree] = field(default_factory=dict)
    deps: set[int] = field(default_factory=set)
    conditions: frozenset[str] = frozenset()
    variables: set[str] = field(default_factory=set)
    renames: list[tuple[tuple[str, ...], str, str]] = field(default_factory=list)

    def clashes(self, type_condition: str, typename: str, fields: list[InputSpec]) -> bool:
        tree = self.inputs.get((type_condition, typename))
        return tree is not None and input_trees_clash(tree, input_tree(fields))

    def add_input(self, type_condition: str, typename: str, fields: list[InputSpec]) -> None:
        merge_input_trees(self.inputs.setdefault((type_condition, typename), {}), input_tree(fields))


@dataclass(kw_only=True, slots=True)
class InputSpec:
    name: str
    source: str
    is_key: bool
    selections: list[InputSpec] | None = None
    type_condition: str | None = None  # only for objects of this type (`... on T` in a field set)

    @property
    def tree_key(self) -> str:
        return f"{self.type_condition}|{self.name}" if self.type_condition else self.name


def input_tree(fields: list[InputSpec]) -> InputTree:
    tree: InputTree = {}
    for spec in fields:
        sub = input_tree(spec.selections) if spec.selections is not None else None
        merge_input_trees(tree, {spec.tree_key: [spec.source, sub, spec.is_key]})
    return tree


def merge_input_trees(target: InputTree, source: InputTree) -> None:
    for key, (src, sub, is_key) in source.items():
        entry = target.get(key)
        if entry is None:
            entry = target[key] = [src, None if sub is None else {}, is_key]
        entry[2] = entry[2] or is_key
        if sub is not None:
            if entry[1] is None:
                entry[1] = {}
            merge_input_trees(entry[1], sub)


def input_trees_clash(a: InputTree, b: InputTree) -> bool:
    """Would one representation need a field from two places (same name, other source)?"""
    for key, (src, sub, _) in b.items():
        entry = a.get(key)
        if entry is None:
            continue
        if entry[0] != src:
            return True
        if sub is not None and entry[1] is not None and input_trees_clash(entry[1], sub):
            return True
    return False


@dataclass(kw_only=True, slots=True)
class Position:
    group: FetchGroup
    sel: Selection
    type_name: str
    path: tuple[str, ...]
    provided: dict | None  # type: ignore[type-arg]
    conditions: tuple[str, ...]
    touched: set[int] | None
    # subgraphs that could equally answer this response path from the nearest entity (or the
    # root) down: a union member only some of them know is not safe to select here
    candidates: frozenset[ServiceName] | None = None


class _NeedsParent(Exception):
    """Fields of a keyless type the current subgraph cannot reach: the parent field must be
    fetched again elsewhere. `tried` are subgraphs that already failed them."""

    def __init__(self, items: list[CSelection], tried: frozenset[ServiceName]) -> None:
        super().__init__("unreached fields")
        self.items = items
        self.tried = tried


def with_conditions(f: CField, conditions: tuple[str, ...]) -> CSelection:
    """`f` as it appears under `conditions` (wrapped in condition-only fragments)."""
    if not conditions:
        return f
    return CFragment(type_condition=None, conditions=conditions, selections=[f])


# (target subgraph, via @interfaceObject, @requires, key gathered from several subgraphs)
_JumpKey = tuple[ServiceName, str | None, str | None, tuple[FieldSetField, ...] | None]


class FetchGraphBuilder:
    """One planning pass: selections in, fetch groups out."""

    def __init__(self, view: SubgraphView, schema: GraphQLSchema, root_kind: str) -> None:
        self.view = view
        self.schema = schema
        self.root_kind = root_kind
        self.groups: dict[int, FetchGroup] = {}
        self.by_key: dict[tuple[object, ...], FetchGroup] = {}
        self.internal_alias_count = 0
        self.root_type = ""
        # response name -> every `field(args)` the client asks under it, anywhere in the operation
        self.client_heads: dict[str, set[str]] = {}
        self.reserved: dict[tuple[int, str], str] = {}  # (id of a Selection, head) -> alias

    # -- groups --------------------------------------------------------------------------------
    def group(
        self,
        subgraph: ServiceName,
        merge_at: tuple[str, ...],
        deps: frozenset[int],
        conditions: tuple[str, ...],
        *,
        is_entity: bool,
        variant: int = 0,
    ) -> FetchGroup:
        key = (subgraph, merge_at, deps, is_entity, variant)
        group = self.by_key.get(key)
        if group is None:
            group = FetchGroup(
                id=len(self.groups),
                subgraph=subgraph,
                merge_at=merge_at,
                is_entity=is_entity,
                root_kind="query" if is_entity else self.root_kind,
                deps=set(deps),
                conditions=frozenset(conditions),
            )
            self.groups[group.id] = group
            self.by_key[key] = group
        else:
            group.conditions &= frozenset(conditions)
        return group

    # -- entry ---------------------------------------------------------------------------------
    def plan_root(self, root_type: str, items: list[CSelection]) -> None:
        self.root_type = root_type
        _collect_client_heads(items, self.client_heads)
        chosen: dict[ServiceName, FetchGroup] = {}
        for f, conds in self.collect(root_type, items):
            if f.name != "__typename":  # the gateway answers the root's __typename
                self.plan_root_field(root_type, f, conds, chosen, frozenset())

    def plan_root_field(
        self,
        root_type: str,
        f: CField,
        conds: tuple[str, ...],
        chosen: dict[ServiceName, FetchGroup],
        tried: frozenset[ServiceName],
    ) -> None:
        resolvers = [
            r for r in self.view.resolvers(root_type, f.name)
            if not r.via_interface and r.subgraph not in tried
        ]
        if not resolvers:
            raise PlanningError(
                f"no subgraph resolves {root_type}.{f.name}"
                + (f" with what {', '.join(sorted(tried))} could not" if tried else "")
            )
        best = min(
            resolvers,
            key=lambda r: (
                -self.local_score(r.subgraph, root_type, [f], 3),
                r.subgraph not in chosen,
                self.view.order[r.subgraph],
            ),
        )
        group = chosen.get(best.subgraph)
        if group is None:
            group = self.group(best.subgraph, (), frozenset(), f.conditions + conds, is_entity=False)
        else:
            # the fetch is skippable only under conditions every one of its root fields shares
            group.conditions &= frozenset(f.conditions + conds)
        chosen[best.subgraph] = group
        position = Position(
            group=group,
            sel=group.selection,
            type_name=root_type,
            path=(),
            provided=None,
            conditions=(),
            touched=None,
            candidates=frozenset(self.view.supergraph.subgraphs),
        )
        join = self.view.local(best.subgraph, root_type, f.name)
        try:
            self.add_field(position, f, conds, best.requires, join.provides if join else None)
        except _NeedsParent as unreached:
            # a shared root field whose object type is split over subgraphs: ask another
            # subgraph for the same root field with what this one could not resolve. Never for
            # abstract types: two subgraphs may answer different objects for one field.
            field_def = self.view.types[root_type].fields.get(f.name)
            if field_def is None or self.view.kind(field_def.named_type) != "object":
                raise PlanningError(
                    f"no single subgraph resolves {root_type}.{f.name} with its selection"
                ) from None
            for again in unreached.items:
                assert isinstance(again, (CField, CFragment))
                for g, g_conds in self.collect(root_type, [again]):
                    self.plan_root_field(root_type, g, g_conds, chosen, tried | unreached.tried)

    def client_claims(self, response_name: str, head: str) -> bool:
        """Does the client use `response_name` for something other than `head`? Then an
        internal field fetched under that name would overwrite, or be overwritten by, the
        client's value (or make the subgraph reject two fields on one response name)."""
        return any(h != head for h in self.client_heads.get(response_name, ()))

    def reserved_alias(self, field_name: str) -> str:
        # a client may spell an alias like ours: skip the numbers it took
        while True:
            self.internal_alias_count += 1
            alias = f"_tr{self.internal_alias_count}_{field_name}"
            if alias not in self.client_heads:
                return alias

    # -- selections ----------------------------------------------------------------------------
    def collect(self, runtime_type: str, items: list[CSelection]) -> list[tuple[CField, tuple[str, ...]]]:
        out: list[tuple[CField, tuple[str, ...]]] = []
        self._collect(runtime_type, items, (), out)
        return out

    def _collect(
        self,
        runtime_type: str,
        items: list[CSelection],
        conditions: tuple[str, ...],
        out: list[tuple[CField, tuple[str, ...]]],
    ) -> None:
        for item in items:
            if isinstance(item, CField):
                out.append((item, conditions))
            elif self.applies(item.type_condition, runtime_type):
                self._collect(runtime_type, item.selections, conditions + item.conditions, out)

    def applies(self, type_condition: str | None, runtime_type: str) -> bool:
        if type_condition is None or type_condition == runtime_type:
            return True
        possible = self.view.supergraph.possible_types.get(type_condition)
        if possible is not None:
            return runtime_type in possible or (
                # an interface position (and @interfaceObject) matches fragments on itself or
                # on interfaces it implements
                runtime_type in self.view.supergraph.possible_types
                and possible >= self.view.supergraph.possible_types[runtime_type]
                and self.view.kind(runtime_type) == "interface"
            )
        return fragment_applies(self.schema, type_condition, runtime_type)

    def plan_selections(self, pos: Position, items: list[CSelection]) -> None:
        kind = self.view.kind(pos.type_name)
        if kind in ("interface", "union"):
            if self.view.is_interface_object(pos.group.subgraph, pos.type_name):
                self.plan_interface_object(pos, items)
            else:
                self.plan_abstract(pos, items)
        else:
            self.plan_object(pos, items)

    def plan_object(self, pos: Position, items: list[CSelection]) -> None:
        type_name = pos.type_name
        pending: list[tuple[CField, tuple[str, ...]]] = []
        self.touch(pos)
        collected = self.collect(type_name, items)
        for f, conds in collected:
            if f.name == "__typename":
                self.add_typename(pos, f, conds)
                continue
            join = self.local_field(pos, f.name)
            if join is not None and not join.requires:
                self.add_field(pos, f, conds, None, join.provides)
            else:
                pending.append((f, conds))
        if pending:
            self.plan_jumps(pos, pending)

    def plan_abstract(self, pos: Position, items: list[CSelection]) -> None:
        subgraph, abstract = pos.group.subgraph, pos.type_name
        self.touch(pos)
        pos.sel.add_leaf("__typename", "__typename")
        runtime = self.safe_members(pos)
        if self.interface_fast_path(subgraph, abstract, runtime, items):
            for f, conds in self.collect(abstract, items):
                if f.name == "__typename":
                    self.add_typename(pos, f, conds)
                else:
                    join = self.local_field(pos, f.name)
                    assert join is not None
                    self.add_field(pos, f, conds, None, join.provides)
            return
        if not runtime:
            # the subgraph knows no implementation: only the abstract type's own fields can be
            # asked here, and a field it cannot resolve has no path at all
            for f, _ in self.collect(abstract, items):
                if f.name != "__typename" and self.local_field(pos, f.name) is None:
                    raise PlanningError(
                        f"{pos.group.subgraph} knows no implementation of {abstract}, and "
                        f"{abstract}.{f.name} cannot be resolved from it"
                    )
        unreached: list[CSelection] = []
        tried: frozenset[ServiceName] = frozenset()
        for runtime_type in runtime:
            if not self.collect(runtime_type, items):
                continue
            sub = pos.sel.child(f"... on {runtime_type}")
            try:
                self.plan_object(
                    Position(
                        group=pos.group,
                        sel=sub,
                        type_name=runtime_type,
                        path=pos.path,
                        provided=pos.provided,
                        conditions=pos.conditions,
                        touched=pos.touched,
                        candidates=pos.candidates,
                    ),
                    items,
                )
            except _NeedsParent as missing:
                # keep planning the other types; the parent fetches this type's rest elsewhere
                unreached.append(
                    CFragment(type_condition=runtime_type, conditions=(), selections=missing.items)
                )
                tried |= missing.tried
        if unreached:
            raise _NeedsParent(unreached, tried)

    def interface_fast_path(
        self, subgraph: ServiceName, abstract: str, runtime: tuple[str, ...], items: list[CSelection]
    ) -> bool:
        if self.view.kind(abstract) != "interface":
            return not any(isinstance(i, CField) and i.name != "__typename" for i in items) and not any(
                isinstance(i, CFragment) for i in items
            )
        for item in items:
            if isinstance(item, CFragment):
                if item.type_condition not in (None, abstract):
                    return False
                if not self.interface_fast_path(subgraph, abstract, runtime, item.selections):
                    return False
                continue
            if item.name == "__typename":
                continue
            join = self.view.local(subgraph, abstract, item.name)
            if join is None or join.requires:
                return False
            for runtime_type in runtime:
                runtime_join = self.view.local(subgraph, runtime_type, item.name)
                if runtime_join is None or runtime_join.requires:
                    return False
        return True

    def plan_interface_object(self, pos: Position, items: list[CSelection]) -> None:
        """At an interface that `pos`'s subgraph models as an object: its fields resolve here,
        while `__typename` and type conditions need a subgraph that knows the implementations."""
        self.touch(pos)
        pos.sel.add_leaf("__typename", "__typename")
        remaining: list[CSelection] = []
        local_fields: list[tuple[CField, JoinField]] = []
        for item in items:
            if isinstance(item, CField) and item.name != "__typename":
                join = self.local_field(pos, item.name)
                if join is not None and not join.requires:
                    local_fields.append((item, join))
                    continue
            remaining.append(item)
        for f, join in local_fields:
            self.add_field(pos, f, (), None, join.provides)
        # the interface's own fields another subgraph resolves at the interface (another
        # @interfaceObject, or an interface entity): one jump, no need to learn the type first
        interface_level = [
            item for item in remaining
            if isinstance(item, CField) and item.name != "__typename"
            and self.reachable(pos.group.subgraph, pos.type_name, item.name)
        ]
        if interface_level:
            self.plan_jumps(pos, [(f, ()) for f in interface_level])
            remaining = [item for item in remaining if item not in interface_level]
        if not remaining:
            return
        targets = [
            graph
            for graph, joins in self.view.types[pos.type_name].joins.items()
            if not any(j.is_interface_object for j in joins) and self.view.keys(graph, pos.type_name)
        ]
        for target in targets:
            route = self.view.route(pos.group.subgraph, pos.type_name, target, None)
            if route:
                entered = self.jump(pos, route)
                self.plan_abstract(entered, remaining)
                return
        raise PlanningError(
            f"no subgraph can tell the implementation of {pos.type_name} coming from "
            f"{pos.group.subgraph}"
        )

    # -- fields --------------------------------------------------------------------------------
    def local_field(self, pos: Position, field_name: str) -> JoinField | None:
        """How the position's subgraph resolves a field, counting what `@provides` adds here."""
        join = self.view.local(pos.group.subgraph, pos.type_name, field_name)
        provided = pos.provided is not None and (
            field_name in pos.provided or f"{pos.type_name}.{field_name}" in pos.provided
        )
        if join is None and provided and self.view.type_in(pos.group.subgraph, pos.type_name):
            return JoinField(graph=pos.group.subgraph)
        return join

    def subgraph_type_differs(self, pos: Position, field_name: str) -> bool:
        type_def = self.view.types.get(pos.type_name)
        field_def = type_def.fields.get(field_name) if type_def else None
        join = field_def.joins.get(pos.group.subgraph) if field_def else None
        return bool(field_def and join and join.type and join.type != field_def.type)

    def child_candidates(
        self, pos: Position, field_name: str, child_type: str
    ) -> frozenset[ServiceName]:
        """The subgraphs that could answer `field_name`'s value as well as this position's."""
        here = pos.group.subgraph
        entity = self.entity_candidates(child_type, here)
        if entity is not None:
            return entity
        parents = pos.candidates
        if parents is None:
            parents = self.entity_candidates(pos.type_name, here) or frozenset({here})
        return frozenset(
            s for s in parents if s == here or self.view.local(s, pos.type_name, field_name)
        )

    def entity_candidates(
        self, type_name: str, here: ServiceName
    ) -> frozenset[ServiceName] | None:
        """For an entity type, every subgraph that can be entered at it by key (and `here`)."""
        if self.view.kind(type_name) != "object":
            return None
        keyed = frozenset(s for s in self.view.supergraph.subgraphs if self.view.keys(s, type_name))
        return keyed | {here} if keyed else None

    def safe_members(self, pos: Position) -> tuple[str, ...]:
        """Runtime types to select at an abstract position. For a union, only the members every
        candidate subgraph knows: which of them answers must not change the response (Hive
        Router and the audit's `partial-union-complex` agree)."""
        runtime = self.view.runtime_types(pos.group.subgraph, pos.type_name)
        if self.view.kind(pos.type_name) != "union" or not pos.candidates:
            return runtime
        for other in pos.candidates:
            known = self.view.runtime_types(other, pos.type_name)
            runtime = tuple(t for t in runtime if t in known)
        return runtime

    def touch(self, pos: Position) -> None:
        if pos.touched is not None:
            pos.touched.add(pos.group.id)

    def wrap(self, group: FetchGroup, sel: Selection, conditions: tuple[str, ...]) -> Selection:
        for condition in conditions:
            group.variables.add(condition.split("$", 1)[1].rstrip(")"))
            sel = sel.child(f"... {condition}")
        return sel

    def add_typename(self, pos: Position, f: CField, conds: tuple[str, ...]) -> None:
        target = self.wrap(pos.group, pos.sel, f.conditions + conds)
        head = f"{f.alias}: __typename" if f.alias else "__typename"
        target.add_leaf(head, f.response_name)

    def add_field(
        self,
        pos: Position,
        f: CField,
        conds: tuple[str, ...],
        requires: str | None,
        provides: str | None,
    ) -> None:
        group = pos.group
        conditions = f.conditions + conds
        target = self.wrap(group, pos.sel, conditions)
        head = f"{f.alias}: {f.name}{f.arguments}" if f.alias else f"{f.name}{f.arguments}"
        if self.subgraph_type_differs(pos, f.name):
            # another fragment may select this response name with the supergraph's type: ask
            # under a reserved alias and rename back when the answer arrives
            alias = self.reserved_alias(f.response_name)
            head = f"{alias}: {f.name}{f.arguments}"
            relative = pos.path[len(group.merge_at):]
            group.renames.append((relative, alias, f.response_name))
        group.variables |= f.variables
        # the supergraph model, not the API schema: internal fields may cross @inaccessible types
        type_def = self.view.types.get(pos.type_name)
        field_def = type_def.fields.get(f.name) if type_def is not None else None
        if field_def is None or self.view.kind(field_def.named_type) not in (
            "object", "interface", "union"
        ):
            target.add_leaf(head, f.response_name)
            return
        child = target.child(head, f.response_name)
        # the subgraph's own type for the field when it differs (`@join__field(type:)`), e.g. an
        # object where the supergraph has a union: fragments must fit what the subgraph declares
        join = field_def.joins.get(group.subgraph)
        field_type = join.type if join is not None and join.type else field_def.type
        child_type = field_type.replace("[", "").replace("]", "").replace("!", "").strip()
        if child_type not in self.view.types:
            child_type = field_def.named_type
        if child_type != field_def.named_type and self.view.kind(field_def.named_type) != "object":
            child.add_leaf("__typename", "__typename")  # the client's type is abstract: shaping needs it
        depth = field_type.count("[")
        provided = None
        if provides:
            provided = field_set_names(parse_field_set(provides))
        elif pos.provided is not None:
            sub = pos.provided.get(f.name)
            if not isinstance(sub, dict):
                sub = pos.provided.get(f"{pos.type_name}.{f.name}")
            provided = sub or None if isinstance(sub, dict) else None
        child_pos = Position(
            group=group,
            sel=child,
            type_name=child_type,
            path=pos.path + (f.response_name,) + ("@",) * depth,
            provided=provided,
            conditions=pos.conditions + conditions,
            touched=pos.touched,
            candidates=self.child_candidates(pos, f.name, child_type),
        )
        try:
            self.plan_selections(child_pos, f.selections)
        except _NeedsParent as unreached:
            # fields of a value type no key can reach: fetch them through this field again,
            # from a subgraph that resolves it (Apollo's "parent entity call")
            again = CField(
                response_name=f.response_name, name=f.name, alias=f.alias,
                arguments=f.arguments, variables=f.variables, conditions=f.conditions,
                selections=unreached.items,
            )
            tried = unreached.tried | {pos.group.subgraph}
            if pos.type_name == self.root_type and not pos.path:
                raise _NeedsParent([with_conditions(again, conds)], frozenset(tried)) from None
            self.plan_jumps(pos, [(again, conds)], exclude=frozenset(tried))

    # -- jumps ---------------------------------------------------------------------------------
    def local_score(
        self,
        subgraph: ServiceName,
        type_name: str,
        items: list[CSelection],
        depth: int,
        provided: dict | None = None,  # type: ignore[type-arg]
    ) -> int:
        """How much of `items` `subgraph` resolves itself (higher is better), counting what an
        enclosing `@provides` makes local; a field it cannot reach at all weighs heavily against it."""
        kind = self.view.kind(type_name)
        if depth == 0 or kind not in ("object", "interface", "union"):
            return 0
        if kind != "object" and not self.view.is_interface_object(subgraph, type_name):
            runtime = self.view.runtime_types(subgraph, type_name)
            own = sum(
                1 for f, _ in self.collect(type_name, items)
                if f.name != "__typename" and self.view.local(subgraph, type_name, f.name)
            )
            return own + sum(
                self.local_score(subgraph, t, items, depth, provided) for t in runtime
            )
        score = 0
        for f, _ in self.collect(type_name, items):
            if f.name == "__typename":
                continue
            join = self.view.local(subgraph, type_name, f.name)
            sub_provided = None
            if provided is not None:
                sub_provided = provided.get(f.name, provided.get(f"{type_name}.{f.name}"))
            if join is None and sub_provided is not None:
                join = JoinField(graph=subgraph)
            if join is None or join.requires:
                if not self.reachable(subgraph, type_name, f.name):
                    score -= 1000
                continue
            score += 1
            if f.selections:
                type_def = self.view.types.get(type_name)
                field_def = type_def.fields.get(f.name) if type_def else None
                if field_def is not None:
                    if join.provides:
                        sub_provided = field_set_names(parse_field_set(join.provides))
                    score += self.local_score(
                        subgraph, field_def.named_type, f.selections, depth - 1,
                        sub_provided if isinstance(sub_provided, dict) else None,
                    )
        return score

    def plan_jumps(
        self,
        pos: Position,
        pending: list[tuple[CField, tuple[str, ...]]],
        *,
        exclude: frozenset[ServiceName] = frozenset(),
    ) -> None:
        subgraph, type_name = pos.group.subgraph, pos.type_name
        chosen: dict[_JumpKey, list[tuple[CField, tuple[str, ...]]]] = {}
        routes: dict[_JumpKey, tuple[Hop, ...]] = {}
        unreached: list[tuple[CField, tuple[str, ...]]] = []
        retry: list[CSelection] = []
        retry_tried: frozenset[ServiceName] = frozenset()
        for f, conds in pending:
            options: list[tuple[tuple[object, ...], _JumpKey, tuple[Hop, ...]]] = []
            for resolver in self.view.resolvers(type_name, f.name):
                if resolver.subgraph in exclude:
                    continue
                route = self.view.route(subgraph, type_name, resolver.subgraph, resolver.via_interface)
                if route is None:
                    continue
                key: _JumpKey = (resolver.subgraph, resolver.via_interface, resolver.requires, None)
                options.append(
                    (
                        (
                            len(route),
                            resolver.requires is not None,
                            # an @interfaceObject answers for every implementation in one fetch
                            resolver.via_interface is None,
                            key not in chosen,
                            -self.local_score(resolver.subgraph, type_name, [f], 2),
                            self.view.order[resolver.subgraph],
                        ),
                        key,
                        route,
                    )
                )
            if not options:
                options = [
                    o for o in self.assembled_key_options(pos, f, chosen) if o[1][0] not in exclude
                ]
            if not options:
                unreached.append((f, conds))
                continue
            _, key, route = min(options, key=lambda o: o[0])
            chosen.setdefault(key, []).append((f, conds))
            routes[key] = route
        for key, fields in chosen.items():
            target, _, requires, assembled = key
            route = routes[key]
            shared = _common_conditions(fields)
            try:
                if requires is None and assembled is None:
                    entered = self.jump(pos, route, conditions=shared)
                    for f, conds in fields:
                        join = self.view.local(target, entered.type_name, f.name)
                        self.add_field(entered, f, conds, None, join.provides if join else None)
                else:
                    self.plan_requires(pos, route, requires, fields, assembled_key=assembled)
            except _NeedsParent as missing:
                # the subgraph we jumped to cannot finish these: try them from here elsewhere
                retry_tried |= missing.tried
                retry.extend(missing.items)
        if retry:
            self.plan_jumps(pos, self.collect(type_name, retry), exclude=exclude | retry_tried)
        if unreached:
            if not pos.path:
                raise PlanningError(
                    f"cannot reach {type_name}.{unreached[0][0].name} from subgraph {subgraph} at "
                    f"{'.'.join(pos.path) or 'the root'}"
                )
            raise _NeedsParent(
                [with_conditions(f, c) for f, c in unreached], exclude | {subgraph}
            )

    def jump(
        self,
        pos: Position,
        route: tuple[Hop, ...],
        *,
        extra_deps: frozenset[int] = frozenset(),
        extra_inputs: list[InputSpec] | None = None,
        conditions: tuple[str, ...] = (),
    ) -> Position:
        """Follow `route`; `conditions` (skip/include shared by everything fetched at the end)
        let the executor skip the last fetch entirely."""
        current = pos
        for index, hop in enumerate(route):
            key_specs = self.add_internal(current, hop.key, is_key=True)
            current.sel.add_leaf("__typename", "__typename")
            last = index == len(route) - 1
            deps = frozenset({current.group.id}) | (extra_deps if last else frozenset())
            group_conditions = current.conditions + (conditions if last else ())
            typename = hop.entity_type
            type_condition = current.type_name
            inputs = key_specs + ((extra_inputs or []) if last else [])
            variant = 0
            while True:
                group = self.group(
                    hop.subgraph, current.path, deps, group_conditions, is_entity=True,
                    variant=variant,
                )
                # one representation cannot carry a field twice (`price` in USD and in EUR for
                # two @requires): a clashing input goes to a fetch of its own
                if not group.clashes(type_condition, typename, inputs):
                    break
                variant += 1
            group.add_input(type_condition, typename, inputs)
            entity_sel = group.selection.child(f"... on {hop.entity_type}")
            current = Position(
                group=group,
                sel=entity_sel,
                type_name=hop.entity_type,
                path=current.path,
                provided=None,
                conditions=group_conditions,
                touched=pos.touched,
            )
            self.touch(current)
        return current

    def add_internal(
        self, pos: Position, fields: tuple[FieldSetField, ...], *, is_key: bool
    ) -> list[InputSpec]:
        """Fetch a key or `@requires` field set at `pos` (jumping where needed); say where each
        field lands in the merged response so representations can be read back."""
        specs: list[InputSpec] = []
        items: list[CSelection] = []
        for f in fields:
            response_name = f.name
            existing = pos.sel.head_for(f.name)
            wanted_head = f"{f.name}{f.arguments}"
            if (existing is not None and existing != wanted_head) or self.client_claims(
                f.name, wanted_head
            ):
                # one reserved alias per field of a selection, however many hops need it
                response_name = self.reserved.get((id(pos.sel), wanted_head)) or self.reserved_alias(
                    f.name
                )
                self.reserved[(id(pos.sel), wanted_head)] = response_name
            cfield = CField(
                response_name=response_name,
                name=f.name,
                alias=response_name if response_name != f.name else None,
                arguments=f.arguments,
                variables=frozenset(),
                conditions=(),
                selections=[],
            )
            sub_specs = None
            if f.selections:
                sub_specs, sub_items = self._internal_items(f.selections)
                cfield.selections = sub_items
            item: CSelection = cfield
            if f.type_condition and f.type_condition != pos.type_name:
                item = CFragment(type_condition=f.type_condition, conditions=(), selections=[cfield])
            items.append(item)
            specs.append(
                InputSpec(
                    name=f.name, source=response_name, is_key=is_key, selections=sub_specs,
                    type_condition=f.type_condition if f.type_condition != pos.type_name else None,
                )
            )
        self.plan_selections(pos, items)
        return specs

    def _internal_items(self, fields: tuple[FieldSetField, ...]) -> tuple[list[InputSpec], list[CSelection]]:
        specs: list[InputSpec] = []
        items: list[CSelection] = []
        for f in fields:
            sub_specs = None
            response_name = f.name
            if self.client_claims(f.name, f"{f.name}{f.arguments}"):
                response_name = self.reserved_alias(f.name)
            cfield = CField(
                response_name=response_name, name=f.name,
                alias=response_name if response_name != f.name else None,
                arguments=f.arguments, variables=frozenset(), conditions=(), selections=[],
            )
            if f.selections:
                sub_specs, cfield.selections = self._internal_items(f.selections)
            item: CSelection = cfield
            if f.type_condition:
                item = CFragment(type_condition=f.type_condition, conditions=(), selections=[cfield])
            items.append(item)
            specs.append(
                InputSpec(
                    name=f.name, source=response_name, is_key=False, selections=sub_specs,
                    type_condition=f.type_condition,
                )
            )
        if any(f.type_condition for f in fields):
            # type conditions are read against __typename, so the representation carries it
            typename = CField(response_name="__typename", name="__typename", alias=None,
                              arguments="", variables=frozenset(), conditions=(), selections=[])
            items.insert(0, typename)
            specs.insert(0, InputSpec(name="__typename", source="__typename", is_key=False))
        return specs, items

    def assembled_key_options(
        self, pos: Position, f: CField, chosen: dict[_JumpKey, list[tuple[CField, tuple[str, ...]]]]
    ) -> list[tuple[tuple[object, ...], _JumpKey, tuple[Hop, ...]]]:
        """Keys no single subgraph can provide, gathered from several before entering the
        target (e.g. a composite key whose fields live in different subgraphs)."""
        subgraph, type_name = pos.group.subgraph, pos.type_name
        options: list[tuple[tuple[object, ...], _JumpKey, tuple[Hop, ...]]] = []
        for resolver in self.view.resolvers(type_name, f.name):
            entity_type = resolver.via_interface or type_name
            for key in self.view.keys(resolver.subgraph, entity_type):
                if not all(self.reachable(subgraph, type_name, k.name) for k in key):
                    continue
                jump_key = (resolver.subgraph, resolver.via_interface, resolver.requires, key)
                hop = Hop(subgraph=resolver.subgraph, key=(), entity_type=entity_type)
                cost = (len(key), jump_key not in chosen, self.view.order[resolver.subgraph])
                options.append((cost, jump_key, (hop,)))
        return options

    def reachable(self, subgraph: ServiceName, type_name: str, field_name: str) -> bool:
        join = self.view.local(subgraph, type_name, field_name)
        if join is not None and not join.requires:
            return True
        return any(
            self.view.route(subgraph, type_name, r.subgraph, r.via_interface) is not None
            for r in self.view.resolvers(type_name, field_name)
        )

    def plan_requires(
        self,
        pos: Position,
        route: tuple[Hop, ...],
        requires: str | None,
        fields: list[tuple[CField, tuple[str, ...]]],
        *,
        assembled_key: tuple[FieldSetField, ...] | None = None,
    ) -> None:
        """Fetch what `@requires` (and a key no one subgraph has) asks for first, then enter
        the field's subgraph with it."""
        touched: set[int] = set()
        required_pos = Position(
            group=pos.group,
            sel=pos.sel,
            type_name=pos.type_name,
            path=pos.path,
            provided=pos.provided,
            conditions=pos.conditions,
            touched=touched,
        )
        required: list[InputSpec] = []
        if assembled_key:
            required += self.add_internal(required_pos, assembled_key, is_key=True)
        if requires:
            required += self.add_internal(required_pos, parse_field_set(requires), is_key=False)
        touched.add(pos.group.id)
        # the last hop enters the requiring subgraph; earlier hops only carry keys
        entered = self.jump(
            pos, route, extra_deps=frozenset(touched), extra_inputs=required,
            conditions=_common_conditions(fields),
        )
        for f, conds in fields:
            join = self.view.local(entered.group.subgraph, entered.type_name, f.name)
            self.add_field(entered, f, conds, None, join.provides if join else None)


def _collect_client_heads(items: list[CSelection], out: dict[str, set[str]]) -> None:
    for item in items:
        if isinstance(item, CField):
            out.setdefault(item.response_name, set()).add(f"{item.name}{item.arguments}")
        _collect_client_heads(item.selections, out)


def _common_conditions(fields: list[tuple[CField, tuple[str, ...]]]) -> tuple[str, ...]:
    common: set[str] | None = None
    for f, conds in fields:
        own = set(f.conditions + conds)
        common = own if common is None else common & own
    first = fields[0][0].conditions + fields[0][1]
    return tuple(c for c in first if common and c in common)


def freeze_inputs(group: FetchGroup, view: SubgraphView) -> tuple[InputFragment, ...]:
    out = []
    for (type_condition, typename), tree in group.inputs.items():
        if view.kind(type_condition) == "object":
            types = frozenset({type_condition})
        else:
            types = view.supergraph.possible_types.get(type_condition, frozenset()) | {type_condition}
        out.append(
            InputFragment(
                type_condition=type_condition,
                types=frozenset(types),
                typename=typename,
                fields=_freeze_tree(tree, view),
            )
        )
    return tuple(out)


def _freeze_tree(tree: dict[str, list], view: SubgraphView) -> tuple[InputField, ...]:  # type: ignore[type-arg]
    out = []
    for key, (source, sub, is_key) in tree.items():
        type_condition, _, name = key.rpartition("|")
        types = None
        if type_condition:
            types = view.supergraph.possible_types.get(type_condition, frozenset()) | {type_condition}
        out.append(
            InputField(
                name=name,
                source=source,
                selections=_freeze_tree(sub, view) if sub is not None else None,
                is_key=is_key,
                types=types,
                type_condition=type_condition or None,
            )
        )
    return tuple(out)
