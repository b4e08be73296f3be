// Reference composition for the cross-check test: Apollo's composeServices over subgraph sets.
// stdin: {"<case>": [{"name", "url", "sdl"}, ...], ...}
// stdout: {"<case>": {"supergraphSdl": string|null, "errors": [{"code", "message"}], "hints": [...]}}
// Batching every case into one process keeps the test fast (Node start-up dominates otherwise).
import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

function composeCase(subgraphs) {
  let services;
  try {
    services = subgraphs.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) }));
  } catch (error) {
    // Apollo's parse step fails before composition; report it the way composition would.
    return { supergraphSdl: null, errors: [{ code: "INVALID_GRAPHQL", message: String(error.message) }], hints: [] };
  }
  let result;
  try {
    result = composeServices(services);
  } catch (error) {
    // Some inputs make Apollo throw instead of returning errors; keep the batch going.
    const causes = error.causes ?? [error];
    return {
      supergraphSdl: null,
      errors: causes.map((e) => ({ code: e.extensions?.code ?? "EXCEPTION", message: String(e.message) })),
      hints: [],
    };
  }
  const errors = (result.errors ?? []).map((e) => ({
    code: e.extensions?.code ?? "UNKNOWN",
    message: e.message,
  }));
  const hints = (result.hints ?? []).map((h) => ({ code: h.definition?.code ?? "UNKNOWN", message: h.message }));
  return { supergraphSdl: errors.length ? null : result.supergraphSdl, errors, hints };
}

const input = JSON.parse(readFileSync(0, "utf8"));
const output = {};
for (const [name, subgraphs] of Object.entries(input)) output[name] = composeCase(subgraphs);
process.stdout.write(JSON.stringify(output));
