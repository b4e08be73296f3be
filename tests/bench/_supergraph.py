"""The benchmark supergraph: composed by our own composer at bench start, else the checked-in one.

`supergraph.graphql` beside this module was composed once with Apollo's composition, for when our
composer cannot compose the benchmark subgraphs. Regenerate it (needs node and the shared peer
benchmark's node_modules) with:

    .venv/bin/python -m tests.bench._supergraph --apollo
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.bench.subgraphs.serve import NAMES, subgraph_sdl

HERE = Path(__file__).resolve().parent
CHECKED_IN = HERE / "supergraph.graphql"
# the URLs the checked-in supergraph names; replaced by the real ones at bench start
PLACEHOLDER_PORTS = {name: 4001 + index for index, name in enumerate(NAMES)}
APOLLO_MODULES = Path("/work/shared/bench")

_APOLLO_SCRIPT = """
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(process.env.APOLLO_MODULES + "/package.json");
const { composeServices } = require("@apollo/composition");
const { parse } = require("graphql");
const input = JSON.parse(readFileSync(0, "utf8"));
const result = composeServices(input.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) })));
if (result.errors?.length) {
  for (const error of result.errors) console.error(error.message);
  process.exit(1);
}
process.stdout.write(result.supergraphSdl.trimEnd() + "\\n");
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class Supergraph:
    sdl: str
    source: str  # "tributary-compose" or "checked-in (Apollo composition)"
    note: str = ""


def placeholder_urls() -> dict[str, str]:
    return {name: f"http://127.0.0.1:{port}/graphql" for name, port in PLACEHOLDER_PORTS.items()}


def compose_ours(urls: dict[str, str]) -> str:
    """Our composer over the subgraphs' own `_service { sdl }`; raises with every error."""
    from gateway.compose import SubgraphSource, compose

    result = compose([SubgraphSource(name=name, url=urls[name], sdl=subgraph_sdl(name)) for name in NAMES])
    if result.supergraph_sdl is None:
        raise RuntimeError("; ".join(str(error) for error in result.errors) or "composition failed")
    return result.supergraph_sdl


def with_urls(sdl: str, urls: dict[str, str]) -> str:
    """The supergraph with each `@join__graph(name: ..., url: ...)` pointing at `urls`."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return f'@join__graph(name: "{name}", url: "{urls.get(name, match.group(2))}")'

    return re.sub(r'@join__graph\(name: "([^"]+)", url: "([^"]*)"\)', replace, sdl)


def bench_supergraph(urls: dict[str, str], *, prefer: str = "compose") -> Supergraph:
    """Compose with our composer (prefer="compose"), falling back to the checked-in supergraph."""
    if prefer == "compose":
        try:
            return Supergraph(sdl=compose_ours(urls), source="tributary-compose")
        except Exception as error:  # noqa: BLE001 - any composer failure means: use the fallback
            note = f"our composer failed ({type(error).__name__}: {error}); used the checked-in supergraph"
            return Supergraph(sdl=with_urls(CHECKED_IN.read_text(), urls), source="checked-in", note=note)
    return Supergraph(sdl=with_urls(CHECKED_IN.read_text(), urls), source="checked-in")


def compose_apollo() -> str:
    """Authoring time only: compose with Apollo's @apollo/composition through node."""
    subgraphs = [{"name": name, "url": url, "sdl": subgraph_sdl(name)} for name, url in placeholder_urls().items()]
    done = subprocess.run(
        ["node", "--input-type=module", "-e", _APOLLO_SCRIPT],
        input=json.dumps(subgraphs),
        capture_output=True,
        text=True,
        env={"APOLLO_MODULES": str(APOLLO_MODULES), "PATH": "/usr/local/bin:/usr/bin:/bin"},
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"Apollo composition failed: {done.stderr.strip()}")
    return done.stdout


if __name__ == "__main__":
    if sys.argv[1:] == ["--apollo"]:
        CHECKED_IN.write_text(compose_apollo())
        print(f"wrote {CHECKED_IN}")
    else:
        print(compose_ours(placeholder_urls()), end="")
