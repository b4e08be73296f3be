"""`python -m gateway compose`: config in, supergraph file out, or every error at once and exit 1."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from graphql import build_ast_schema, parse

from gateway.compose.cli import main

FED = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", '
    'import: ["@key", "@shareable", "@external", "@requires"])\n'
)

# What a new user gets wrong first: a forgotten @external, a key on a field that does not exist,
# two types for one field, a @requires cycle across subgraphs, and a plain syntax error.
BROKEN = {
    "accounts": FED
    + 'type Query { me: User }\ntype User @key(fields: "id") { id: ID! email: String @shareable }\n',
    "orders": FED + 'type User @key(fields: "id") { id: ID! email: Int @shareable }\n'
    'type Order @key(fields: "number") { id: ID! }\ntype Query { order: Order }\n',
    "billing": FED
    + 'type User @key(fields: "id") { id: ID! email: String @shareable invoiceTo: String @requires(fields: "email") }\n',
    "pricing": FED
    + 'type Query { item: Item }\ntype Item @key(fields: "id") { id: ID! cost: Int @external price: Int @requires(fields: "cost") }\n',
    "costs": FED
    + 'type Item @key(fields: "id") { id: ID! price: Int @external cost: Int @requires(fields: "price") }\n',
    "typo": FED + "type Query { broken: String\n",
}


def write_config(tmp_path: Path, sdls: dict[str, str]) -> Path:
    lines = ["subgraphs:"]
    for port, (name, sdl) in enumerate(sdls.items(), start=4101):
        (tmp_path / f"{name}.graphql").write_text(sdl)
        lines += [
            f"  {name}:",
            f"    routing_url: http://127.0.0.1:{port}/graphql",
            f"    schema: {{file: {name}.graphql}}",
        ]
    config = tmp_path / "supergraph.yaml"
    config.write_text("\n".join(lines) + "\n")
    return config


def test_broken_subgraphs_report_every_error_at_once(tmp_path, capsys) -> None:
    config = write_config(tmp_path, BROKEN)
    assert main(["--config", str(config), "--out", str(tmp_path / "out.graphql")]) == 1
    err = capsys.readouterr().err
    assert not (tmp_path / "out.graphql").exists()
    expected = {
        "REQUIRES_FIELDS_MISSING_EXTERNAL": ("billing", "User.invoiceTo"),
        "KEY_INVALID_FIELDS": ("orders", "Order"),
        "FIELD_TYPE_MISMATCH": ("orders", "User.email"),
        "SATISFIABILITY_ERROR": ("pricing", "Item.cost"),
        "INVALID_GRAPHQL": ("typo", None),
    }
    lines = [line for line in err.splitlines() if line.startswith("error[")]
    for code, (subgraph, coordinate) in expected.items():
        matching = [line for line in lines if line.startswith(f"error[{code}]")]
        assert matching, f"{code} missing from:\n{err}"
        assert any(
            f"subgraph {subgraph}" in line and (coordinate is None or f"at {coordinate}" in line)
            for line in matching
        ), matching
    assert "@requires cycle" in err
    assert "Expected Name, found <EOF>. (syntax error at line 3, column 1)" in err


def test_valid_config_writes_a_supergraph_that_graphql_core_builds(tmp_path, capsys) -> None:
    config = write_config(
        tmp_path,
        {
            "users": FED
            + 'type Query { me: User }\ntype User @key(fields: "id") { id: ID! name: String }\n',
            "posts": FED + 'type User @key(fields: "id") { id: ID! posts: [String!]! }\n',
        },
    )
    out = tmp_path / "schema" / "supergraph.graphql"
    assert main(["compose", "--config", str(config), "--out", str(out)]) == 0
    sdl = out.read_text()
    assert '@join__graph(name: "posts", url: "http://127.0.0.1:4102/graphql")' in sdl
    assert "posts: [String!]! @join__field(graph: POSTS)" in sdl
    schema = build_ast_schema(parse(sdl))
    assert set(schema.get_type("User").fields) == {"id", "name", "posts"}  # type: ignore[union-attr]


def test_supergraph_goes_to_stdout_without_out(tmp_path, capsys) -> None:
    config = write_config(tmp_path, {"only": FED + "type Query { ping: String }\n"})
    assert main(["--config", str(config)]) == 0
    assert "ping: String" in capsys.readouterr().out


def test_bad_config_is_a_clear_error(tmp_path, capsys) -> None:
    config = tmp_path / "supergraph.yaml"
    config.write_text("subgraphs:\n  a: {routing_url: http://x/graphql}\n")
    assert main(["--config", str(config)]) == 1
    assert "exactly one of `schema.file` or `schema.subgraph_url`" in capsys.readouterr().err


def test_runs_as_a_python_one_liner(tmp_path) -> None:
    config = write_config(tmp_path, BROKEN)
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from gateway.compose.cli import main; sys.exit(main(sys.argv[1:]))",
            "--config",
            str(config),
        ],
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[3],
    )
    assert completed.returncode == 1
    assert completed.stderr.count("error[") >= 5


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_broken_subgraph_alone_names_itself(name, tmp_path, capsys) -> None:
    sdls = {name: BROKEN[name]}
    if name in ("orders", "billing"):
        sdls["accounts"] = BROKEN["accounts"]
    if name in ("pricing", "costs"):
        sdls = {"pricing": BROKEN["pricing"], "costs": BROKEN["costs"]}
    config = write_config(tmp_path, sdls)
    status = main(["--config", str(config)])
    err = capsys.readouterr().err
    if name == "accounts":
        assert status == 0
        return
    assert status == 1
    assert textwrap.dedent(err).count("error[") >= 1


def test_hints_are_printed_on_request(tmp_path, capsys) -> None:
    config = write_config(
        tmp_path,
        {
            "a": FED + "type Query { a(f: Filter): Int }\ninput Filter { x: Int y: Int }\n",
            "b": FED + "type Query { b(f: Filter): Int }\ninput Filter { x: Int }\n",
        },
    )
    assert main(["--config", str(config), "--hints", "--out", str(tmp_path / "s.graphql")]) == 0
    err = capsys.readouterr().err
    assert 'hint: INCONSISTENT_INPUT_OBJECT_FIELD: Input object field "y" will not be added' in err
    assert "  y: Int" not in (tmp_path / "s.graphql").read_text()
