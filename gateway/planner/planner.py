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
        self.view = SubgraphView(supergraph)

    def plan(self, document: DocumentNode, operation_name: str | None = None) -> QueryPlan:
        return self.plan_operation(normalize_operation(document, operation_name))

    def plan_operation(self, operation: NormalizedOperation) -> QueryPlan:
        root_type = self.supergraph.root_types.get(operation.kind)
        if root_type is None:
            from .fetch_graph import PlanningError

            raise PlanningError(f"the supergraph has no {operation.kind} type")
        if operation.kind == "mutation":
            node = self._plan_mutation(root_type, operation)
        else:
            node = self._plan_selections(root_type, operation.selections, operation)
        return QueryPlan(node=node, operation_kind=operation.kind)  # type: ignore[arg-type]

    def _plan_selections(
        self, root_type: str, items: list[CSelection], operation: NormalizedOperation
    ) -> PlanNode | None:
        builder = FetchGraphBuilder(self.view, self.api_schema, operation.kind)
        builder.plan_root(root_type, items)
        return build_plan_node(builder.groups, operation, self.view)

    def _plan_mutation(self, root_type: str, operation: NormalizedOperation) -> PlanNode | None:
        """Mutation root fields run strictly in order; neighbours on one subgraph share a fetch."""
        builder = FetchGraphBuilder(self.view, self.api_schema, "mutation")
        fields = builder.collect(root_type, operation.selections)
        batches: list[tuple[str | None, list[CSelection]]] = []
        for f, conditions in fields:
            if f.name == "__typename":
                continue
            resolvers = self.view.resolvers(root_type, f.name)
            subgraph = resolvers[0].subgraph if resolvers else None
            item = with_conditions(f, conditions)
            if batches and batches[-1][0] == subgraph:
                batches[-1][1].append(item)
            else:
                batches.append((subgraph, [item]))
        nodes = [self._plan_selections(root_type, items, operation) for _, items in batches]
        present = [n for n in nodes if n is not None]
        return in_sequence(present) if present else None
