"""`python -m gateway`: serve a supergraph, print a plan, compose, diff schemas, or run the dev stack."""

from __future__ import annotations

import argparse
import json
import sys


def _serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway", description="Serve a supergraph.")
    parser.add_argument("--supergraph", help="supergraph SDL file (reloaded when it changes)")
    parser.add_argument("--port", type=int, help="port (default 4000, or GATEWAY_PORT)")
    parser.add_argument("--host", help="interface (default 127.0.0.1, or GATEWAY_HOST)")
    args = parser.parse_args(argv)
    import uvicorn

    from .config import GatewaySettings
    from .server import create_app

    overrides = {k: v for k, v in {"supergraph": args.supergraph, "port": args.port, "host": args.host}.items() if v is not None}
    from pydantic import ValidationError

    try:
        settings = GatewaySettings(**overrides)
    except ValidationError as error:
        for problem in error.errors():
            variable = "GATEWAY_" + "_".join(str(p) for p in problem["loc"]).upper()
            print(f"error: {variable}: {problem['msg']}", file=sys.stderr)
        return 2
    if not settings.supergraph:
        parser.error("give --supergraph PATH (or GATEWAY_SUPERGRAPH)")
    app = create_app(settings)
    import gc

    # long-lived objects (schema, plans, modules) need no rescanning: freeze them, and collect
    # the young generation less often, which keeps tail latency down under many connections
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    print(f"Tributary gateway on http://{settings.host}:{settings.port}/graphql", flush=True)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level.lower(),
        access_log=False,
        ws_per_message_deflate=False,  # halves memory per subscription connection
    )
    return 0


def _plan(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway plan", description="Print a query plan.")
    parser.add_argument("--supergraph", required=True)
    parser.add_argument("--operation-name")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument("--label", action="append", default=[], metavar="LABEL",
                        help="a progressive @override label to plan as active (repeatable)")
    parser.add_argument("query", help="the operation, or @file to read it from a file")
    args = parser.parse_args(argv)
    from graphql import GraphQLError, parse, validate

    from .planner import PlanningError, QueryPlanner, plan_to_json, print_plan
    from .supergraph import build_api_schema, parse_supergraph

    with open(args.supergraph, encoding="utf-8") as handle:
        sdl = handle.read()
    query = args.query
    if query.startswith("@"):
        with open(query[1:], encoding="utf-8") as handle:
            query = handle.read()
    schema = build_api_schema(sdl)
    try:
        document = parse(query)
    except GraphQLError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 1
    errors = validate(schema, document)
    if errors:
        for problem in errors:
            print(f"error: {problem.message}", file=sys.stderr)
        return 1
    try:
        plan = QueryPlanner(parse_supergraph(sdl), schema).plan(
            document, args.operation_name, active_labels=frozenset(args.label))
    except PlanningError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(plan_to_json(plan), indent=2) if args.json else print_plan(plan))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and not argv[0].startswith("-") else None
    if command == "plan":
        return _plan(argv[1:])
    if command == "compose":
        from .compose.cli import main as compose_main

        return compose_main(argv[1:])
    if command == "schema-diff":
        from .schema_diff import main as diff_main

        return diff_main(argv[1:])
    if command == "dev":
        from .devstack import main as dev_main

        return dev_main() or 0
    return _serve(argv)


if __name__ == "__main__":
    sys.exit(main())
