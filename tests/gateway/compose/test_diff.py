"""`python -m gateway schema-diff OLD NEW`: breaking vs safe API changes, non-zero on breaking."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gateway.compose import SubgraphSource, compose
from gateway.compose.diff import Severity, api_schema, diff_schemas
from gateway.schema_diff import main

OLD = """
type Query { user(id: ID!): User users(first: Int): [User!]! }
type User { id: ID! name: String email: String role: Role }
enum Role { ADMIN MEMBER }
input NewUser { name: String! }
type Mutation { createUser(input: NewUser!): User }
"""


def kinds(changes, severity):
    return sorted(c.kind for c in changes if c.severity is severity)


def test_removed_field_changed_type_and_new_required_argument_are_breaking() -> None:
    new = (
        OLD.replace("name: String email: String", "name: Int")
        .replace("users(first: Int)", "users(first: Int, org: ID!)")
    )
    changes = diff_schemas(OLD, new)
    assert kinds(changes, Severity.BREAKING) == [
        "FIELD_CHANGED_KIND",
        "FIELD_REMOVED",
        "REQUIRED_ARG_ADDED",
    ]
    descriptions = " ".join(c.description for c in changes)
    assert "User.email was removed." in descriptions
    assert "User.name changed type from String to Int." in descriptions


def test_additions_are_safe_or_dangerous_but_never_breaking() -> None:
    new = (
        OLD.replace("role: Role }", "role: Role avatar: String }")
        .replace("MEMBER }", "MEMBER GUEST }")
        .replace("type Mutation", "type Team { id: ID! }\ntype Mutation")
        .replace("name: String email", 'name: String @deprecated(reason: "use fullName") email')
    )
    changes = diff_schemas(OLD, new)
    assert kinds(changes, Severity.BREAKING) == []
    assert kinds(changes, Severity.DANGEROUS) == ["VALUE_ADDED_TO_ENUM"]
    assert kinds(changes, Severity.SAFE) == [
        "FIELD_ADDED",
        "FIELD_DEPRECATION_CHANGED",
        "TYPE_ADDED",
    ]


def test_required_input_field_and_removed_enum_value_are_breaking() -> None:
    new = OLD.replace("name: String! }", "name: String! team: ID! }").replace(
        "ADMIN MEMBER", "ADMIN"
    )
    assert kinds(diff_schemas(OLD, new), Severity.BREAKING) == [
        "REQUIRED_INPUT_FIELD_ADDED",
        "VALUE_REMOVED_FROM_ENUM",
    ]


FED = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@inaccessible"])\n'


def supergraph(*sdls: str) -> str:
    result = compose(
        [SubgraphSource(name=f"s{i}", url=f"http://s{i}/graphql", sdl=FED + s) for i, s in enumerate(sdls)]
    )
    assert result.supergraph_sdl is not None, result.errors
    return result.supergraph_sdl


def test_supergraphs_are_compared_as_api_schemas() -> None:
    old = supergraph('type Query { a: Thing }\ntype Thing @key(fields: "id") { id: ID! secret: String @inaccessible }')
    new = supergraph(
        'type Query { a: Thing }\ntype Thing @key(fields: "id") { id: ID! }',
        'type Thing @key(fields: "id") { id: ID! b: Int }',
    )
    schema = api_schema(old)
    assert set(schema.type_map["Thing"].fields) == {"id"}  # type: ignore[union-attr]
    assert not any(name.startswith(("join__", "link__")) for name in schema.type_map)
    changes = diff_schemas(old, new)
    # The @inaccessible field was never part of the API, so dropping it breaks nobody.
    assert [(c.severity, c.kind) for c in changes] == [(Severity.SAFE, "FIELD_ADDED")]


def test_cli_exit_status_and_json(tmp_path, capsys) -> None:
    old, same, broken = tmp_path / "old.graphql", tmp_path / "same.graphql", tmp_path / "new.graphql"
    old.write_text(OLD)
    same.write_text(OLD.replace("role: Role }", "role: Role bio: String }"))
    broken.write_text(OLD.replace("email: String", ""))
    assert main([str(old), str(same)]) == 0
    assert "safe changes (1):" in capsys.readouterr().out
    assert main([str(old), str(broken)]) == 1
    assert "[FIELD_REMOVED] User.email was removed." in capsys.readouterr().out
    assert main(["--json", str(old), str(broken)]) == 1
    assert json.loads(capsys.readouterr().out) == [
        {"severity": "breaking", "kind": "FIELD_REMOVED", "description": "User.email was removed."}
    ]
    assert main([str(old), str(tmp_path / "missing.graphql")]) == 2


def test_runs_through_python_m_gateway(tmp_path) -> None:
    old, new = tmp_path / "old.graphql", tmp_path / "new.graphql"
    old.write_text(OLD)
    new.write_text(OLD.replace("users(first: Int)", "users(first: Int!)"))
    completed = subprocess.run(
        [sys.executable, "-m", "gateway", "schema-diff", str(old), str(new)],
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[3],
    )
    assert completed.returncode == 1, completed.stderr
    assert "ARG_CHANGED_KIND" in completed.stdout
