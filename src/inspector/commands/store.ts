import { type CommandContext, type CommandResult, intOption, parseNamespace, requireArg } from "../context.js";
import { InspectorNotFoundError, InspectorUsageError } from "../errors.js";
import { formatTime, table } from "../output.js";
import { mapLimited } from "../read/threads.js";

/** `store ls [namespace]`, `store get <namespace> <key>`, `store history <namespace> <key>`. */
export async function storeCommand(ctx: CommandContext): Promise<CommandResult> {
  const sub = ctx.args[0];
  const rest = { ...ctx, args: ctx.args.slice(1) };
  if (sub === "ls") return storeList(rest);
  if (sub === "get") return storeGet(rest);
  if (sub === "history") return storeHistory(rest);
  throw new InspectorUsageError(
    sub === undefined
      ? "store needs a subcommand: ls, get or history"
      : `unknown store subcommand ${JSON.stringify(sub)}: use ls, get or history`,
  );
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? "null";
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

async function storeList(ctx: CommandContext): Promise<CommandResult> {
  const limit = intOption(ctx, "limit", 100);
  if (ctx.args[0] === undefined) {
    const namespaces = await ctx.store.listNamespaces({ limit });
    const text = namespaces.length === 0 ? "no namespaces" : namespaces.map((ns) => ns.join(".")).join("\n");
    return { data: { prefix: ctx.prefix, namespaces }, text };
  }
  const namespace = parseNamespace(ctx.args[0]);
  const items = await ctx.store.search(namespace, { limit });
  if (items.length === 0) {
    throw new InspectorNotFoundError(
      `no items in namespace ${JSON.stringify(namespace.join("."))} or below it under the prefix ` +
        `${JSON.stringify(ctx.prefix)}: list the namespaces with \`langgraph-redis store ls\``,
    );
  }
  const versions = await mapLimited(items, 16, (item) => ctx.store.getWithVersion(item.namespace, item.key));
  const rows = items.map((item, i) => ({
    namespace: item.namespace,
    key: item.key,
    version: versions[i]?.version ?? null,
    updatedBy: versions[i]?.updatedBy ?? null,
    updatedAt: item.updatedAt,
    value: item.value,
  }));
  const text = table(
    ["namespace", "key", "version", "updated by", "updated", "value"],
    rows.map((r) => [
      r.namespace.join("."),
      r.key,
      r.version ?? "-",
      r.updatedBy,
      formatTime(r.updatedAt.getTime()),
      preview(r.value),
    ]),
    90,
  );
  return { data: { prefix: ctx.prefix, items: rows }, text };
}

async function storeGet(ctx: CommandContext): Promise<CommandResult> {
  const namespace = parseNamespace(requireArg(ctx, 0, "namespace"));
  const key = requireArg(ctx, 1, "key");
  const item = await ctx.store.getWithVersion(namespace, key);
  if (item === null) {
    throw new InspectorNotFoundError(
      `no item ${JSON.stringify(key)} in namespace ${JSON.stringify(namespace.join("."))}: list the namespace with ` +
        `\`langgraph-redis store ls ${namespace.join(".")}\`; a deleted item keeps its history (store history)`,
    );
  }
  const text = [
    `${namespace.join(".")} / ${key}  version ${item.version}  updated by ${item.updatedBy ?? "-"}  at ${formatTime(item.updatedAt.getTime())}`,
    `created ${formatTime(item.createdAt.getTime())}  expires ${item.expiresAt ? formatTime(item.expiresAt.getTime()) : "never"}`,
    "",
    JSON.stringify(item.value, null, 2),
  ].join("\n");
  return { data: { item }, text };
}

async function storeHistory(ctx: CommandContext): Promise<CommandResult> {
  const namespace = parseNamespace(requireArg(ctx, 0, "namespace"));
  const key = requireArg(ctx, 1, "key");
  const limit = intOption(ctx, "limit", 1000);
  const entries = await ctx.store.history(namespace, key, { limit });
  if (entries.length === 0) {
    throw new InspectorNotFoundError(
      `item ${JSON.stringify(key)} in namespace ${JSON.stringify(namespace.join("."))} has no history under the ` +
        `prefix ${JSON.stringify(ctx.prefix)} (never written, or expired)`,
    );
  }
  const oldestFirst = [...entries].reverse();
  const text = table(
    ["version", "op", "writer", "time", "value"],
    oldestFirst.map((e) => [
      e.version,
      e.op,
      e.writer,
      formatTime(e.at.getTime()),
      e.value === null ? "-" : preview(e.value),
    ]),
    90,
  );
  return { data: { namespace, key, history: oldestFirst }, text };
}
