"""The query planner: a normalised operation in, a QueryPlan out (no I/O, variable-independent)."""

from __future__ import annotations

from graphql import DocumentNode, GraphQLSchema

from ..supergraph.model import Supergraph
from .build import build_plan_node
from .fetch_graph import FetchGraphBuilder, with_conditions
from .graph import SubgraphView
from .operation import CSelection, NormalizedOperation, normalize_operation
from .plan import PlanNode, QueryPlan, in_sequence


class QueryPlanner:
    def __init__(self, supergraph: Supergraph, api_schema: GraphQLSchema) -> None:
        self.supergraph = supergraph
        self.api_schema = api_schema
        # progressive @override labels of the supergraph; a plan depends on which are active
        self.override_labels = frozenset(
            join.override_label
            for type_def in supergraph.types.values()
            for field_def in type_def.fields.values()
            for join in field_def.joins.values()
            if join.override_label is not None
        )
        self.view = SubgraphView(supergraph)
        self._views = {frozenset[str](): self.view}

    def view_for(self, active_labels: frozenset[str]) -> SubgraphView:
        """The subgraph view with these labels active (labels the supergraph lacks are ignored)."""
        labels = active_labels & self.override_labels
        view = self._views.get(labels)
        if view is None:
            view = self._views[labels] = SubgraphView(self.supergraph, labels)
        return view

    def plan(self, document: DocumentNode, operation_name: str | None = None, *,
             active_labels: frozenset[str] = frozenset()) -> QueryPlan:
        return self.plan_operation(normalize_operation(document, operation_name),
                                   active_labels=active_labels)

    def plan_operation(self, operation: NormalizedOperation, *,
                       active_labels: frozenset[str] = frozenset()) -> QueryPlan:
        root_type = self.supergraph.root_types.get(operation.kind)
        if root_type is None:
            from .fetch_graph import PlanningError

            raise PlanningError(f"the supergraph has no {operation.kind} type")
        view = self.view_for(active_labels)
        if operation.kind == "mutation":
            node = self._plan_mutation(view, root_type, operation)
        else:
            node = self._plan_selections(view, root_type, operation.selections, operation)
        return QueryPlan(node=node, operation_kind=operation.kind)  # type: ignore[arg-type]

    def _plan_selections(
        self, view: SubgraphView, root_type: str, items: list[CSelection],
        operation: NormalizedOperation,
    ) -> PlanNode | None:
        builder = FetchGraphBuilder(view, self.api_schema, operation.kind)
        builder.plan_root(root_type, items)
        return build_plan_node(builder.groups, operation, view)

    def _plan_mutation(
        self, view: SubgraphView, root_type: str, operation: NormalizedOperation
    ) -> PlanNode | None:
        """Mutation root fields run strictly in order; neighbours on one subgraph share a fetch."""
        builder = FetchGraphBuilder(view, self.api_schema, "mutation")
        fields = builder.collect(root_type, operation.selections)
        batches: list[tuple[str | None, list[CSelection]]] = []
        for f, conditions in fields:
            if f.name == "__typename":
                continue
            resolvers = view.resolvers(root_type, f.name)
            subgraph = resolvers[0].subgraph if resolvers else None
            item = with_conditions(f, conditions)
            if batches and batches[-1][0] == subgraph:
                batches[-1][1].append(item)
            else:
                batches.append((subgraph, [item]))
        nodes = [self._plan_selections(view, root_type, items, operation) for _, items in batches]
        present = [n for n in nodes if n is not None]
        return in_sequence(present) if present else None
