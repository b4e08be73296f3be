"""Corpus loading, Apollo's reference composition over Node.js, and order-insensitive SDL compare."""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
from pathlib import Path

import yaml
from graphql import parse, print_ast
from graphql.language import ast

from gateway.compose import SubgraphSource

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
ORACLE = HERE / "oracle"


def load_case(path: Path) -> list[SubgraphSource]:
    """One `.graphql` per subgraph (name = file stem); `config.yaml` may give `urls: {name: url}`."""
    config = {}
    if (path / "config.yaml").exists():
        config = yaml.safe_load((path / "config.yaml").read_text()) or {}
    urls = config.get("urls", {})
    return [
        SubgraphSource(
            name=file.stem,
            url=urls.get(file.stem, f"http://127.0.0.1:4000/{file.stem}/graphql"),
            sdl=file.read_text(),
        )
        for file in sorted(path.glob("*.graphql"))
    ]


def case_dirs(kind: str) -> list[Path]:
    return sorted(p for p in (CORPUS / kind).iterdir() if p.is_dir())


def node_missing_reason() -> str | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return (
            "Node.js and npm are not installed: the cross-check against Apollo's composition "
            "(tests/gateway/compose/oracle) needs them"
        )
    return None


def ensure_oracle_installed() -> None:
    if not (ORACLE / "node_modules" / "@apollo" / "composition").is_dir():
        subprocess.run(
            ["npm", "ci", "--silent", "--no-audit", "--no-fund"],
            cwd=ORACLE,
            check=True,
            timeout=300,
        )


def run_oracle(cases: dict[str, list[SubgraphSource]]) -> dict[str, dict]:
    payload = {
        name: [{"name": s.name, "url": s.url, "sdl": s.sdl} for s in subgraphs]
        for name, subgraphs in cases.items()
    }
    completed = subprocess.run(
        ["node", str(ORACLE / "compose.mjs")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(completed.stdout)


def load_in_apollo(supergraphs: dict[str, str]) -> dict[str, dict]:
    """Build each supergraph with Apollo's `Supergraph.build` (what its gateway does at start-up)."""
    completed = subprocess.run(
        ["node", str(ORACLE / "load.mjs")],
        input=json.dumps(supergraphs),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(completed.stdout)


def _sorted_directives(nodes) -> tuple:
    directives = [
        ast.DirectiveNode(
            name=d.name, arguments=tuple(sorted(d.arguments or (), key=lambda a: a.name.value))
        )
        for d in nodes or ()
    ]
    return tuple(sorted(directives, key=print_ast))


def _normalise_node(node):
    """Sort every order-insensitive list of one definition (fields, args, directives...)."""
    changes = {}
    for attr in ("directives",):
        if getattr(node, attr, None) is not None:
            changes[attr] = _sorted_directives(getattr(node, attr))
    for attr in ("fields", "values", "arguments"):
        items = getattr(node, attr, None)
        if items:
            changes[attr] = tuple(
                sorted((_normalise_node(i) for i in items), key=lambda i: i.name.value)
            )
    for attr in ("interfaces", "types"):
        items = getattr(node, attr, None)
        if items:
            changes[attr] = tuple(sorted(items, key=lambda i: i.name.value))
    if getattr(node, "locations", None) and isinstance(node, ast.DirectiveDefinitionNode):
        changes["locations"] = tuple(sorted(node.locations, key=lambda n: n.value))
    if isinstance(node, ast.SchemaDefinitionNode):
        changes["operation_types"] = tuple(
            sorted(node.operation_types, key=lambda o: o.operation.value)
        )
    if not changes:
        return node
    copy = node.__copy__()
    for key, value in changes.items():
        setattr(copy, key, value)
    return copy


def normalise_sdl(sdl: str) -> str:
    """Parse, sort definitions and everything inside them, print: order no longer matters."""
    document = parse(sdl, no_location=True)
    definitions = sorted(
        (_normalise_node(d) for d in document.definitions),
        key=lambda d: (d.kind, getattr(getattr(d, "name", None), "value", "")),
    )
    return print_ast(ast.DocumentNode(definitions=tuple(definitions))) + "\n"


def sdl_diff(expected: str, actual: str, *, expected_name: str, actual_name: str) -> str:
    return "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=expected_name,
            tofile=actual_name,
        )
    )
