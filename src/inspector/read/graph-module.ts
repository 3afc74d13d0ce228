/** The user's leased graph for `runs --graph` and `resume --graph`: their module, imported by path. */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { leasedGraphContext } from "../../recovery/with-run-lease.js";
import type { CommandContext } from "../context.js";
import { InspectorNotFoundError, InspectorUsageError } from "../errors.js";

/** Imports `module[#export]` (default export, else `graph`); a function export is called with { client, keyPrefix }. */
export async function loadGraph(ctx: CommandContext, spec: string): Promise<unknown> {
  const hash = spec.lastIndexOf("#");
  const path = hash > 0 ? spec.slice(0, hash) : spec;
  const name = hash > 0 ? spec.slice(hash + 1) : undefined;
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new InspectorNotFoundError(`--graph: cannot import ${JSON.stringify(path)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const exported = name !== undefined ? module[name] : (module.default ?? module.graph);
  if (exported === undefined) {
    throw new InspectorUsageError(
      `--graph: ${JSON.stringify(path)} exports no ${name !== undefined ? JSON.stringify(name) : 'default or "graph"'}`,
    );
  }
  const graph =
    typeof exported === "function" && leasedGraphContext(exported) === undefined
      ? await (exported as (o: { client: unknown; keyPrefix: string }) => unknown)({
          client: ctx.client,
          keyPrefix: ctx.prefix,
        })
      : exported;
  if (leasedGraphContext(graph) === undefined) {
    throw new InspectorUsageError(`--graph: ${JSON.stringify(spec)} is not a graph returned by withRunLease()`);
  }
  return graph;
}
