/**
 * The end of the demo: counts computed from what the processes recorded in Redis and from the shared documents
 * as they are at the end, rendered as one table row per setup.
 */
import type { RedisClient } from "langgraph-redis";
import type { DemoKeys } from "./keys.js";
import type { SetupName } from "./options.js";
import type { Order } from "./orders.js";
import { PaymentProvider } from "./provider.js";
import { readRecords, readSamples, type Stamped } from "./recording.js";
import type { SharedState } from "./shared-state.js";

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly count: number;
}

export interface SetupResult {
  readonly setup: SetupName;
  readonly label: string;
  /** Whether the demo fails unless this setup is free of conflicts (the layer: with its locks switched off it fails). */
  readonly mustBeClean: boolean;
  readonly orders: number;
  readonly threads: number;
  readonly finished: number;
  /** A few threads that never finished, for the failure message. */
  readonly unfinishedSample: readonly string[];
  /** Orders two runs worked on at the same moment (overlapping critical sections), or charged more than once. */
  readonly doubleProcessed: number;
  /** Orders the card provider charged more than once (its ledger). */
  readonly doubleCharged: number;
  /** Orders charged after the fraud agent had stored a flag on them. */
  readonly flaggedApprovals: number;
  readonly writesMade: number;
  /** Writes that returned success but are not in the shared documents at the end. */
  readonly lostWrites: number;
  /** Orders on which two critical sections (any agents, any runs) ran at the same time. */
  readonly overlappingOrders: number;
  /** Runs of the killed worker that had started and not finished. */
  readonly crashedRuns: number;
  readonly resumed: number;
  readonly restarted: number;
  /** Orders flagged only after they were charged (ordered correctly; sent to refund review). */
  readonly flaggedAfterCharge: number;
  readonly duplicatesSkipped: number;
  readonly put: Percentiles;
  readonly lockWait: Percentiles;
  readonly killed: { worker: string; pid: number } | null;
  readonly elapsedMs: number;
}

export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), count: sorted.length };
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** Orders on which two critical sections overlapped in time (server clock). */
export function overlappingOrders(sections: readonly Stamped<"cs">[]): Set<string> {
  const byOrder = new Map<string, Stamped<"cs">[]>();
  for (const cs of sections) byOrder.set(cs.orderId, [...(byOrder.get(cs.orderId) ?? []), cs]);
  const orders = new Set<string>();
  for (const [orderId, list] of byOrder) {
    list.sort((a, b) => a.startUs - b.startUs);
    let latestEnd = -1;
    for (const cs of list) {
      if (cs.startUs < latestEnd) orders.add(orderId);
      latestEnd = Math.max(latestEnd, cs.atUs);
    }
  }
  return orders;
}

export async function collectResult(input: {
  client: RedisClient;
  keys: DemoKeys;
  setup: SetupName;
  label: string;
  mustBeClean: boolean;
  orders: readonly Order[];
  threads: number;
  threadIds: readonly string[];
  state: SharedState;
  elapsedMs: number;
}): Promise<SetupResult> {
  const { client, keys, state } = input;
  const [runStarts, runEnds, sections, verdicts, approvals, skipped, writes, takeovers, kills] = await Promise.all([
    readRecords(client, keys, "runStart"),
    readRecords(client, keys, "runEnd"),
    readRecords(client, keys, "cs"),
    readRecords(client, keys, "verdict"),
    readRecords(client, keys, "approval"),
    readRecords(client, keys, "duplicateSkipped"),
    readRecords(client, keys, "write"),
    readRecords(client, keys, "takeover"),
    readRecords(client, keys, "kill"),
  ]);

  const ledger = await PaymentProvider.ledger(client, keys);
  const doubleCharged = [...countBy(ledger, (e) => e.orderId)].filter(([, n]) => n > 1).map(([orderId]) => orderId);
  const overlapping = overlappingOrders(sections);

  const firstFlagUs = new Map<string, number>();
  for (const v of verdicts) {
    if (v.flagged) firstFlagUs.set(v.orderId, Math.min(firstFlagUs.get(v.orderId) ?? Infinity, v.atUs));
  }
  const flaggedApproved = new Set(
    approvals.filter((a) => (firstFlagUs.get(a.orderId) ?? Infinity) < a.atUs).map((a) => a.orderId),
  );
  const flaggedAfterCharge = new Set(verdicts.filter((v) => v.flagged && v.afterCharge).map((v) => v.orderId));

  // A write counts once (a resumed task may record the same write id again) and is lost if the document at the
  // end does not hold it.
  const orderById = new Map(input.orders.map((o) => [o.orderId, o]));
  const made = new Map(writes.map((w) => [w.writeId, w]));
  const docs = new Map<string, Set<string>>();
  for (const doc of new Set([...made.values()].map((w) => w.doc))) {
    const [kind, id = ""] = doc.split(":");
    const order = orderById.get(id);
    const final = kind === "order" && order ? await state.readOrder(order) : await state.readCustomer(id);
    docs.set(doc, new Set(final.log.map((e) => e.writeId)));
  }
  const lostWrites = [...made.values()].filter((w) => !docs.get(w.doc)?.has(w.writeId)).length;

  const kill = kills[0];
  const endedByVictim = new Set(runEnds.filter((e) => e.worker === kill?.worker).map((e) => e.thread));
  const crashed = kill
    ? [
        ...new Set(
          runStarts
            .filter((s) => s.worker === kill.worker && s.atUs < kill.atUs && !endedByVictim.has(s.thread))
            .map((s) => s.thread),
        ),
      ]
    : [];
  const finishedAfterKill = new Set(runEnds.filter((e) => kill && e.atUs > kill.atUs).map((e) => e.thread));
  const tookOver = (how: "resumed" | "restarted") =>
    crashed.filter((t) => finishedAfterKill.has(t) && takeovers.some((k) => k.thread === t && k.how === how)).length;

  const finished = await client.scard(keys.done);
  const doneThreads = new Set(await client.smembers(keys.done));
  const unfinishedSample = input.threadIds.filter((t) => !doneThreads.has(t)).slice(0, 5);
  return {
    setup: input.setup,
    label: input.label,
    mustBeClean: input.mustBeClean,
    orders: input.orders.length,
    threads: input.threads,
    finished,
    unfinishedSample,
    doubleProcessed: new Set([...overlapping, ...doubleCharged]).size,
    doubleCharged: doubleCharged.length,
    flaggedApprovals: flaggedApproved.size,
    writesMade: made.size,
    lostWrites,
    overlappingOrders: overlapping.size,
    crashedRuns: crashed.length,
    resumed: tookOver("resumed"),
    restarted: tookOver("restarted"),
    flaggedAfterCharge: flaggedAfterCharge.size,
    duplicatesSkipped: new Set(skipped.map((s) => s.orderId)).size,
    put: percentiles(await readSamples(client, keys, "put")),
    lockWait: percentiles(await readSamples(client, keys, "lockWait")),
    killed: kill ? { worker: kill.worker, pid: kill.pid } : null,
    elapsedMs: input.elapsedMs,
  };
}

/** What is wrong with a setup that must be clean (empty when it is). */
export function problems(result: SetupResult): string[] {
  if (!result.mustBeClean) return [];
  const found: string[] = [];
  if (result.doubleCharged > 0) found.push(`${plural(result.doubleCharged, "order")} charged more than once`);
  if (result.flaggedApprovals > 0) found.push(`${plural(result.flaggedApprovals, "flagged order")} charged`);
  if (result.lostWrites > 0) found.push(`${plural(result.lostWrites, "write")} lost`);
  if (result.overlappingOrders > 0) {
    found.push(`${plural(result.overlappingOrders, "order")} worked on by two runs at once`);
  }
  if (result.finished < result.threads) {
    const sample = result.unfinishedSample.join(", ");
    found.push(`${plural(result.threads - result.finished, "run")} never finished (${sample})`);
  }
  if (result.resumed < result.crashedRuns) {
    found.push(`${result.crashedRuns - result.resumed} of ${result.crashedRuns} crashed runs not resumed`);
  }
  return found;
}

export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

function ms(value: number): string {
  if (!Number.isFinite(value)) return "-";
  return value < 1 ? value.toFixed(2) : value < 10 ? value.toFixed(1) : value.toFixed(0);
}

const columns = [
  ["", ""],
  ["orders", ""],
  ["double-", "processed"],
  ["approvals of", "flagged orders"],
  ["lost", "writes"],
  ["crashed runs", "resumed"],
  ["checkpoint put", "p50 / p99 ms"],
  ["lock wait", "p50 / p99 ms"],
] as const;

export function renderTable(results: readonly SetupResult[]): string {
  const rows = results.map((r) => [
    r.label,
    String(r.orders),
    String(r.doubleProcessed),
    String(r.flaggedApprovals),
    String(r.lostWrites),
    `${r.resumed} of ${r.crashedRuns}`,
    r.put.count > 0 ? `${ms(r.put.p50)} / ${ms(r.put.p99)}` : "-",
    r.lockWait.count > 0 ? `${ms(r.lockWait.p50)} / ${ms(r.lockWait.p99)}` : "no locks",
  ]);
  const widths = columns.map((header, i) =>
    Math.max(header[0].length, header[1].length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(columns.map((c) => c[0])), line(columns.map((c) => c[1])), rule, ...rows.map(line)].join("\n");
}
