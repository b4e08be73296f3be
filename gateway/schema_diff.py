"""`python -m gateway schema-diff OLD NEW`: list API schema changes, exit 1 on breaking ones (CI)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from graphql import GraphQLError

from ._cli import ArgumentParser
from .compose.diff import Severity, diff_schemas


def main(argv: list[str]) -> int:
    """Exit 0 when nothing breaks, 1 when a change breaks clients, 2 when a schema is unreadable."""
    argv = list(argv)
    if argv[:1] == ["schema-diff"]:
        argv = argv[1:]
    parser = ArgumentParser(
        prog="python -m gateway schema-diff",
        description="Compare two API schemas or supergraphs; non-zero exit on breaking changes.",
    )
    parser.add_argument("old", help="the schema before (SDL file: supergraph or API schema)")
    parser.add_argument("new", help="the schema after")
    parser.add_argument("--json", action="store_true", help="print the changes as JSON")
    args = parser.parse_args(argv)
    try:
        changes = diff_schemas(
            Path(args.old).read_text(encoding="utf-8"), Path(args.new).read_text(encoding="utf-8")
        )
    except (OSError, GraphQLError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    breaking = [c for c in changes if c.severity is Severity.BREAKING]
    if args.json:
        print(
            json.dumps(
                [
                    {"severity": c.severity.value, "kind": c.kind, "description": c.description}
                    for c in changes
                ],
                indent=2,
            )
        )
    else:
        for severity in Severity:
            selected = [c for c in changes if c.severity is severity]
            if selected:
                print(f"{severity.value} changes ({len(selected)}):")
                for change in selected:
                    print(f"  - [{change.kind}] {change.description}")
        if not changes:
            print("no changes")
    return 1 if breaking else 0
