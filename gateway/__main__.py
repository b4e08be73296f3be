"""`python -m gateway`: serve a supergraph, print a plan, compose, or diff schemas.

The dev stack (`make run`) is `python -m devstack`: it imports the subgraphs, the gateway never does.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from ._cli import ArgumentParser, CliError


def _serve(argv: list[str]) -> int:
    parser = ArgumentParser(prog="python -m gateway serve", description="Serve a supergraph.")
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
    _read(settings.supergraph, "supergraph")
    try:
        app = create_app(settings)
    except (ValueError, TypeError) as error:  # GraphQLError included: the SDL does not load
        raise CliError(f"{settings.supergraph} is not a supergraph: {_first_line(error)}") from None
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
    parser = ArgumentParser(prog="python -m gateway plan", description="Print a query plan.")
    parser.add_argument("--supergraph", required=True, help="supergraph SDL file")
    parser.add_argument("--operation-name", help="which operation of the document to plan")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument("--label", action="append", default=[], metavar="LABEL",
                        help="a progressive @override label to plan as active (repeatable)")
    parser.add_argument("query", help="the operation, or @file to read it from a file")
    args = parser.parse_args(argv)
    from graphql import GraphQLError, parse, validate

    from .planner import PlanningError, QueryPlanner, plan_to_json, print_plan
    from .supergraph import build_api_schema, parse_supergraph

    sdl = _read(args.supergraph, "supergraph")
    query = args.query
    if query.startswith("@"):
        query = _read(query[1:], "operation")
    try:
        schema = build_api_schema(sdl)
    except (GraphQLError, ValueError, TypeError) as error:
        raise CliError(f"{args.supergraph} is not a supergraph: {_first_line(error)}") from None
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


def _read(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as error:
        raise CliError(f"cannot read the {what} file {path}: {error.strerror or error}") from None


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _compose(argv: list[str]) -> int:
    from .compose.cli import main as compose_main

    return compose_main(argv)


def _schema_diff(argv: list[str]) -> int:
    from .schema_diff import main as diff_main

    return diff_main(argv)


# name -> (one line of --help, handler)
COMMANDS: dict[str, tuple[str, Callable[[list[str]], int]]] = {
    "serve": ("serve a supergraph file on :4000 (the default: flags alone mean serve)", _serve),
    "plan": ("print the query plan of an operation against a supergraph", _plan),
    "compose": ("compose subgraph SDLs (supergraph.yaml) into a supergraph", _compose),
    "schema-diff": ("list API changes between two schemas; exit 1 when one breaks clients", _schema_diff),
}


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: python -m gateway [COMMAND] [ARGS...]", "", "Tributary's federation gateway.", "",
             "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, (summary, _) in COMMANDS.items()]
    lines += ["", "`python -m gateway COMMAND --help` describes a command's arguments."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["-h"], ["--help"], ["help"]):
        print(usage())
        return 0
    command = argv[0] if argv and not argv[0].startswith("-") else "serve"
    if command not in COMMANDS:
        print(f"error: unknown command {command!r} (see python -m gateway --help)", file=sys.stderr)
        return 2
    handler = COMMANDS[command][1]
    try:
        return handler(argv[1:] if argv and argv[0] == command else argv)
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
