// Loads supergraph SDLs the way Apollo's runtimes do (Supergraph.build: validation, API schema,
// subgraph extraction) so the cross-check proves the reference accepts our output.
// Apollo Gateway refuses SECURITY features (@authenticated, @policy...) that only the Router
// enforces, so those load with the Router's feature set and say so in `gatewaySupported`.
// stdin: {"<case>": "<supergraph sdl>"}
// stdout: {"<case>": {"ok", "error", "gatewaySupported", "apiSchema", "subgraphs"}}
import { readFileSync } from "node:fs";
import { ROUTER_SUPPORTED_SUPERGRAPH_FEATURES, Supergraph } from "@apollo/federation-internals";
import { printSchema } from "graphql";

function load(sdl) {
  let gatewaySupported = true;
  let supergraph;
  try {
    supergraph = Supergraph.build(sdl);
  } catch (error) {
    if (!String(error.message).includes("is for: SECURITY but is unsupported")) throw error;
    gatewaySupported = false;
    supergraph = Supergraph.build(sdl, { supportedFeatures: ROUTER_SUPPORTED_SUPERGRAPH_FEATURES });
  }
  return {
    ok: true,
    error: null,
    gatewaySupported,
    apiSchema: printSchema(supergraph.apiSchema().toGraphQLJSSchema()),
    subgraphs: supergraph.subgraphs().names(),
  };
}

const input = JSON.parse(readFileSync(0, "utf8"));
const output = {};
for (const [name, sdl] of Object.entries(input)) {
  try {
    output[name] = load(sdl);
  } catch (error) {
    output[name] = { ok: false, error: String(error.message ?? error), apiSchema: null, subgraphs: [] };
  }
}
process.stdout.write(JSON.stringify(output));
