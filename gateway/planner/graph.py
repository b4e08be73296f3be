"""What each subgraph can resolve: the questions the planner asks of the supergraph model."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import lru_cache

from ..supergraph.model import JoinField, ServiceName, Supergraph
from .fieldset import FieldSetField, parse_field_set


@dataclass(frozen=True, kw_only=True, slots=True)
class Resolver:
    """A subgraph that can resolve a field, and what it needs to do so."""

    subgraph: ServiceName
    requires: str | None = None
    via_interface: str | None = None  # resolved through an @interfaceObject of this interface


@dataclass(frozen=True, kw_only=True, slots=True)
class Hop:
    """An entity jump: fetch `key` where we are, then enter `subgraph` at `entity_type`."""

    subgraph: ServiceName
    key: tuple[FieldSetField, ...]
    entity_type: str


class SubgraphView:
    """What each subgraph can resolve, for one set of active progressive-override labels."""

    def __init__(self, supergraph: Supergraph, active_labels: frozenset[str] = frozenset()) -> None:
        self.supergraph = supergraph
        self.active_labels = active_labels
        self.types = supergraph.types
        self.order = {name: i for i, name in enumerate(supergraph.subgraphs)}
        self.fed1 = supergraph.join_version < (0, 2)
        self.local = lru_cache(maxsize=None)(self._local)
        self.keys = lru_cache(maxsize=None)(self._keys)
        self.runtime_types = lru_cache(maxsize=None)(self._runtime_types)
        self.route = lru_cache(maxsize=None)(self._route)

    # -- types ---------------------------------------------------------------------------------
    def kind(self, type_name: str) -> str:
        type_def = self.types.get(type_name)
        return type_def.kind if type_def else "scalar"

    def type_in(self, subgraph: ServiceName, type_name: str) -> bool:
        type_def = self.types.get(type_name)
        if type_def is None:
            return True  # built-in scalars
        return subgraph in type_def.joins or not type_def.joins

    def is_interface_object(self, subgraph: ServiceName, type_name: str) -> bool:
        type_def = self.types.get(type_name)
        return bool(
            type_def
            and any(j.is_interface_object for j in type_def.joins.get(subgraph, ()))
        )

    def _keys(self, subgraph: ServiceName, type_name: str) -> tuple[tuple[FieldSetField, ...], ...]:
        """Resolvable keys by which `subgraph` can be entered at `type_name`."""
        type_def = self.types.get(type_name)
        if type_def is None:
            return ()
        return tuple(
            parse_field_set(j.key)
            for j in type_def.joins.get(subgraph, ())
            if j.key and j.resolvable
        )

    def key_field_names(self, subgraph: ServiceName, type_name: str) -> frozenset[str]:
        type_def = self.types.get(type_name)
        if type_def is None:
            return frozenset()
        return frozenset(
            f.name
            for j in type_def.joins.get(subgraph, ())
            if j.key
            for f in parse_field_set(j.key)
        )

    def _runtime_types(self, subgraph: ServiceName, type_name: str) -> tuple[str, ...]:
        """Object types that a value of `type_name` coming from `subgraph` can have."""
        type_def = self.types.get(type_name)
        if type_def is None or type_def.kind == "object":
            return (type_name,)
        possible = self.supergraph.possible_types.get(type_name, frozenset())
        if type_def.kind == "union":
            members = type_def.members.get(subgraph)
            if members is None:
                members = frozenset(t for t in possible if self.type_in(subgraph, t))
        else:
            members = frozenset(
                t
                for t in possible
                if self.type_in(subgraph, t) and self._implements(subgraph, t, type_name)
            )
        return tuple(t for t in self.types if t in members)  # supergraph order: stable plans

    def _implements(self, subgraph: ServiceName, object_type: str, interface: str) -> bool:
        type_def = self.types[object_type]
        if self.fed1 or not any(type_def.implements.values()):
            return interface in type_def.interfaces
        return interface in type_def.implements.get(subgraph, frozenset())

    # -- fields --------------------------------------------------------------------------------
    def _local(
        self, subgraph: ServiceName, type_name: str, field_name: str
    ) -> JoinField | None:
        """How `subgraph` resolves the field itself, or None (external fields excluded)."""
        if field_name == "__typename":
            return None if self.is_interface_object(subgraph, type_name) else _PLAIN[subgraph]
        type_def = self.types.get(type_name)
        if type_def is None or not self.type_in(subgraph, type_name):
            return None
        field_def = type_def.fields.get(field_name)
        if field_def is None or field_def.no_graph:
            return None
        if not field_def.joins:
            return _PLAIN[subgraph]
        join = field_def.joins.get(subgraph)
        if join is None:
            if self.fed1 and field_name in self.key_field_names(subgraph, type_name):
                return _PLAIN[subgraph]
            return None
        if join.external or join.used_overridden:
            # composition already drops @external from keys it can resolve (Federation 1 style
            # extensions); what stays external is resolvable here only through @provides
            return None
        # progressive @override: the new owner (`override` set) resolves the field while its
        # label is active, the subgraph it takes the field from while it is not
        if join.override_label is not None and (
            (join.override is not None) != (join.override_label in self.active_labels)
        ):
            return None
        return join

    def resolvers(self, type_name: str, field_name: str) -> list[Resolver]:
        type_def = self.types[type_name]
        field_def = type_def.fields.get(field_name)
        out: list[Resolver] = []
        if field_def is not None and not field_def.no_graph:
            graphs = list(field_def.joins or type_def.joins)
            for graph in graphs:
                join = self.local(graph, type_name, field_name)
                if join is not None:
                    out.append(Resolver(subgraph=graph, requires=join.requires))
        for interface in sorted(type_def.interfaces):
            interface_def = self.types.get(interface)
            if interface_def is None or field_name not in interface_def.fields:
                continue
            for graph in interface_def.joins:
                if self.is_interface_object(graph, interface):
                    join = self.local(graph, interface, field_name)
                    if join is not None:
                        out.append(
                            Resolver(subgraph=graph, requires=join.requires, via_interface=interface)
                        )
        return out

    def provides_key(self, subgraph: ServiceName, type_name: str, key: tuple[FieldSetField, ...]) -> bool:
        """Can `subgraph`, positioned at `type_name`, fetch every field of `key` itself?"""
        for f in key:
            join = self.local(subgraph, type_name, f.name)
            if join is None or join.requires:
                return False
            if f.selections:
                child = self.types[type_name].fields[f.name].named_type
                for runtime in self.runtime_types(subgraph, child):
                    if not self.provides_key(subgraph, runtime, f.selections):
                        return False
        return True

    def _route(
        self, source: ServiceName, type_name: str, target: ServiceName, via_interface: str | None
    ) -> tuple[Hop, ...] | None:
        """Fewest entity jumps from `source` to `target` at `type_name` (breadth-first, ≤3)."""
        if source == target and via_interface is None:
            keys = self.keys(target, type_name)
            for key in keys:
                if self.provides_key(source, type_name, key):
                    return (Hop(subgraph=target, key=key, entity_type=type_name),)
            return None
        queue: deque[tuple[ServiceName, tuple[Hop, ...]]] = deque([(source, ())])
        seen = {source}
        while queue:
            here, hops = queue.popleft()
            if len(hops) >= 3:
                continue
            for there in self.supergraph.subgraphs:
                if there in seen and there != target:
                    continue
                entity_type = type_name
                if there == target and via_interface is not None:
                    entity_type = via_interface
                hop = self._hop(here, type_name, there, entity_type)
                if hop is None:
                    continue
                if there == target:
                    return (*hops, hop)
                seen.add(there)
                queue.append((there, (*hops, hop)))
        return None

    def _hop(
        self, here: ServiceName, type_name: str, there: ServiceName, entity_type: str
    ) -> Hop | None:
        if here == there:
            return None
        for key in self.keys(there, entity_type):
            if self.provides_key(here, type_name, key):
                return Hop(subgraph=there, key=key, entity_type=entity_type)
        return None


class _PlainJoins(dict[ServiceName, JoinField]):
    """A JoinField with no flags, per subgraph, for fields every subgraph of the type has."""

    def __missing__(self, graph: ServiceName) -> JoinField:
        join = JoinField(graph=graph)
        self[graph] = join
        return join


_PLAIN = _PlainJoins()
