"""Supergraph SDL in: the federation model for planning and the API schema for clients."""

from .api_schema import build_api_schema
from .model import FieldDef, JoinField, JoinType, ServiceName, Subgraph, Supergraph, TypeDef
from .parse import SupergraphError, parse_supergraph

__all__ = [
    "FieldDef",
    "JoinField",
    "JoinType",
    "ServiceName",
    "Subgraph",
    "Supergraph",
    "SupergraphError",
    "TypeDef",
    "build_api_schema",
    "parse_supergraph",
]
