import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { auditSchemaNameSchema } from "../../audit/options.js";
import { type CommandContext, type CommandResult, intOption, stringOption } from "../context.js";
import { InspectorUsageError } from "../errors.js";
import { type ActivitySource, collectViewData, type ViewData } from "../view/data.js";
import { renderPage } from "../view/page.js";

/**
 * `view [thread...] [--item namespace/key]... [--out page.html | --serve [--port n]]`: the timeline page. Without
 * threads or items it draws the newest --limit threads. --serve answers on 127.0.0.1 only and redraws on each load.
 */
export async function viewCommand(ctx: CommandContext): Promise<CommandResult> {
  const items = (ctx.options.item as string[] | undefined) ?? [];
  const newest = intOption(ctx, "limit", 5);
  const source = activitySource(ctx);
  let drawn: ViewData | undefined;
  const draw = async () => {
    drawn = await collectViewData(ctx, ctx.args, items, newest, source);
    return renderPage(drawn);
  };
  if (ctx.options.serve === true) {
    if (ctx.options.out !== undefined) throw new InspectorUsageError("view takes --out or --serve, not both");
    return serve(ctx, draw);
  }
  const out = resolve(stringOption(ctx, "out") ?? "langgraph-redis-view.html");
  const html = await draw();
  await writeFile(out, html);
  const link = pathToFileURL(out).href;
  const data = drawn as ViewData;
  const { activity } = data;
  const summary =
    activity.source === "none"
      ? "no audit events under this prefix: lock and crash history needs `audit` on (docs/audit.md)"
      : `${activity.holds.length} lock holds, ${activity.marks.length} crash, resume or history marks from the audit trail`;
  return {
    data: {
      file: out,
      url: link,
      bytes: Buffer.byteLength(html),
      threads: data.threads.map((t) => ({
        threadId: t.threadId,
        checkpoints: t.checkpoints.length,
        leases: t.leases.length,
      })),
      locks: data.locks,
      activity,
    },
    text: `wrote ${out}\n${summary}\nopen ${link}`,
  };
}

function activitySource(ctx: CommandContext): ActivitySource {
  const schema = stringOption(ctx, "schema") ?? "langgraph_redis";
  if (!auditSchemaNameSchema.safeParse(schema).success) {
    throw new InspectorUsageError(
      `--schema ${JSON.stringify(schema)}: the PostgreSQL schema of the audit tables is a lower-case identifier ` +
        "(letters, digits, _), as given to startAuditSink",
    );
  }
  const postgres = stringOption(ctx, "postgres");
  if (postgres !== undefined && !/^postgres(ql)?:\/\//.test(postgres)) {
    throw new InspectorUsageError(
      "--postgres: a PostgreSQL connection string, postgresql://user:password@host:port/db",
    );
  }
  return { postgres, schema, maxPerStream: intOption(ctx, "events", 20_000) };
}

async function serve(ctx: CommandContext, draw: () => Promise<string>): Promise<CommandResult> {
  const port = intOption(ctx, "port", 0, 0);
  await draw(); // fail now (wrong thread, wrong prefix) rather than on the first page load
  const server = createServer((request, response) => {
    if (request.url !== "/" && request.url !== "/index.html") {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    draw().then(
      (html) =>
        response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(html),
      (error: Error) =>
        response.writeHead(500, { "content-type": "text/plain" }).end(`langgraph-redis view: ${error.message}`),
    );
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolveListen());
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : port}/`;
  ctx.progress(`serving the timeline on ${url} (127.0.0.1 only; Ctrl-C stops)`);
  if (ctx.json) ctx.io.out(`${JSON.stringify({ url })}\n`);
  await new Promise<void>((resolveStop) => {
    if (ctx.signal === undefined) return;
    if (ctx.signal.aborted) resolveStop();
    ctx.signal.addEventListener("abort", () => resolveStop(), { once: true });
  });
  server.closeAllConnections();
  await new Promise((resolveClose) => server.close(resolveClose));
  return { data: { url, stopped: true }, text: `stopped serving ${url}` };
}
