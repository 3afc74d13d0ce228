import { type CommandContext, type CommandResult, emptyPrefixMessage, intOption } from "../context.js";
import { InspectorNotFoundError } from "../errors.js";
import { formatBytes, table } from "../output.js";
import { memoryUsage, scanKeys } from "../read/scan.js";

interface Bucket {
  name: string;
  keys: number;
  bytes: number;
}

/**
 * `memory [--top n] [--max-keys n]`: where the bytes are, per thread, store namespace and kind of key. Walks the
 * keys under the prefix with SCAN (never KEYS, at most --max-keys keys) and asks MEMORY USAGE for each.
 */
export async function memoryCommand(ctx: CommandContext): Promise<CommandResult> {
  const top = intOption(ctx, "top", 20);
  ctx.progress(`scanning keys under ${ctx.patterns.everything} (at most ${ctx.maxKeys})...`);
  const scan = await scanKeys(ctx.client, ctx.patterns.everything, {
    maxKeys: ctx.maxKeys,
    onProgress: (seen) => {
      if (seen > 0 && seen % 10_000 < 1000) ctx.progress(`  ${seen} keys found`);
    },
  });
  if (scan.keys.length === 0) throw new InspectorNotFoundError(emptyPrefixMessage(ctx, "keys"));
  ctx.progress(`measuring ${scan.keys.length} keys with MEMORY USAGE...`);
  const sizes = await memoryUsage(ctx.client, scan.keys, {
    onProgress: (done) => {
      if (done % 10_000 === 0) ctx.progress(`  ${done}/${scan.keys.length} measured`);
    },
  });
  const kinds = new Map<string, Bucket>();
  const threads = new Map<string, Bucket>();
  const namespaces = new Map<string, Bucket>();
  const add = (map: Map<string, Bucket>, name: string, bytes: number) => {
    const bucket = map.get(name) ?? { name, keys: 0, bytes: 0 };
    bucket.keys += 1;
    bucket.bytes += bytes;
    map.set(name, bucket);
  };
  let total = 0;
  scan.keys.forEach((key, i) => {
    const bytes = sizes[i] ?? 0;
    total += bytes;
    const owner = ctx.patterns.owner(key);
    const kindName = {
      thread: "checkpoints (threads)",
      namespace: "store items",
      lock: "locks",
      fence: "fence counters",
      leases: "run leases",
      index: "indexes",
      other: "other",
    }[owner.kind];
    add(kinds, kindName, bytes);
    if (owner.kind === "thread") add(threads, owner.threadId, bytes);
    if (owner.kind === "namespace") add(namespaces, owner.namespace.join("."), bytes);
  });
  const sorted = (map: Map<string, Bucket>) => [...map.values()].sort((a, b) => b.bytes - a.bytes);
  const data = {
    prefix: ctx.prefix,
    keysScanned: scan.keys.length,
    complete: scan.complete,
    totalBytes: total,
    byKind: sorted(kinds),
    threads: sorted(threads).slice(0, top),
    threadCount: threads.size,
    namespaces: sorted(namespaces).slice(0, top),
    namespaceCount: namespaces.size,
  };
  const rows = (buckets: Bucket[]) => buckets.map((b) => [b.name, b.keys, formatBytes(b.bytes), b.bytes]);
  const text = [
    `${scan.keys.length} keys, ${formatBytes(total)} under ${ctx.patterns.everything}${scan.complete ? "" : " (stopped at --max-keys: a sample)"}`,
    "",
    table(["kind", "keys", "size", "bytes"], rows(data.byKind)),
    "",
    `largest threads (${data.threads.length} of ${threads.size}):`,
    data.threads.length === 0 ? "  none" : table(["thread", "keys", "size", "bytes"], rows(data.threads)),
    "",
    `largest store namespaces (${data.namespaces.length} of ${namespaces.size}):`,
    data.namespaces.length === 0 ? "  none" : table(["namespace", "keys", "size", "bytes"], rows(data.namespaces)),
  ].join("\n");
  return { data, text };
}
