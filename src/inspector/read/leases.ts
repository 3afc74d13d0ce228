/**
 * Run leases and locks as they are in Redis now. Lease indexes and lock keys are found with a bounded SCAN on the
 * prefix (patterns from src/keys.ts), then read with the library's key builders and its holder parser.
 */
import { isCluster, type RedisClient } from "../../client.js";
import {
  fenceCounterKey,
  lockKey,
  parseRunLeaseMember,
  runLeaseHoldersKey,
  runLeaseIndexKey,
  runLeaseTokenKey,
  THREAD_BUCKETS,
} from "../../keys.js";
import { parseHolder } from "../../recovery/lease/lease-holder.js";
import type { LeaseHolder } from "../../recovery/types.js";
import type { KeyPatterns } from "./key-patterns.js";
import { scanKeys } from "./scan.js";

export interface RunLeaseInfo {
  readonly graph: string;
  readonly threadId: string;
  readonly checkpointNs: string;
  /** "live": the holder renews it; "expired": its holder stopped renewing (crashed, unless it finished). */
  readonly state: "live" | "expired";
  readonly expiresAtMs: number;
  /** Negative once expired. */
  readonly remainingMs: number;
  readonly holder: LeaseHolder | null;
}

export interface LeaseIndexInfo {
  readonly graph: string;
  /** Tokens issued (leases and claims of this graph, summed over the buckets of its lease index). */
  readonly tokenCounter: number;
  readonly leases: readonly RunLeaseInfo[];
}

/** Redis server time in ms (every expiry the library writes is on the server's clock). */
export async function serverTimeMs(client: RedisClient): Promise<number> {
  const node = isCluster(client) ? (client.nodes("master")[0] ?? client) : client;
  const [seconds, micros] = await node.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

export async function readLeaseIndexes(
  client: RedisClient,
  patterns: KeyPatterns,
  options: { maxKeys: number; maxLeases: number; graph?: string },
): Promise<{ indexes: LeaseIndexInfo[]; nowMs: number; complete: boolean }> {
  const prefix = patterns.prefix;
  let graphs: string[];
  let complete = true;
  if (options.graph !== undefined) graphs = [options.graph];
  else {
    const scan = await scanKeys(client, patterns.leaseIndex.pattern, { maxKeys: options.maxKeys });
    complete = scan.complete;
    graphs = [...new Set(scan.keys.map((key) => patterns.leaseGraph(key)).filter((g) => g !== undefined))].sort();
  }
  const nowMs = await serverTimeMs(client);
  const indexes = await Promise.all(
    graphs.map(async (graph): Promise<LeaseIndexInfo> => {
      const buckets = Array.from({ length: THREAD_BUCKETS }, (_, bucket) => bucket);
      const perBucket = await Promise.all(
        buckets.map(async (bucket) => {
          const indexKey = runLeaseIndexKey(prefix, graph, bucket);
          const holdersKey = runLeaseHoldersKey(prefix, graph, bucket);
          const [entries, counter] = await Promise.all([
            client.zrange(indexKey, "0", String(options.maxLeases - 1), "WITHSCORES"),
            client.get(runLeaseTokenKey(prefix, graph, bucket)),
          ]);
          const members: string[] = [];
          const expiries: number[] = [];
          for (let i = 0; i + 1 < entries.length; i += 2) {
            members.push(entries[i] ?? "");
            expiries.push(Number(entries[i + 1]));
          }
          const holders = members.length === 0 ? [] : await client.hmget(holdersKey, ...members);
          return { holdersKey, members, expiries, holders, counter: Number(counter ?? 0) };
        }),
      );
      const members = perBucket.flatMap((b) => b.members);
      const expiries = perBucket.flatMap((b) => b.expiries);
      const holders = perBucket.flatMap((b) => b.holders);
      const holdersKeys = perBucket.flatMap((b) => b.members.map(() => b.holdersKey));
      const counter = perBucket.reduce((sum, b) => sum + b.counter, 0);
      const leases = members.flatMap((member, i): RunLeaseInfo[] => {
        const run = parseRunLeaseMember(member);
        if (!run) return [];
        const expiresAtMs = expiries[i] ?? 0;
        const text = holders[i];
        return [
          {
            graph,
            ...run,
            state: expiresAtMs > nowMs ? "live" : "expired",
            expiresAtMs,
            remainingMs: expiresAtMs - nowMs,
            holder: text ? parseHolder(text, holdersKeys[i] ?? "") : null,
          },
        ];
      });
      leases.sort((a, b) => a.expiresAtMs - b.expiresAtMs);
      return { graph, tokenCounter: counter, leases: leases.slice(0, options.maxLeases) };
    }),
  );
  return { indexes, nowMs, complete };
}

export interface LockInfo {
  readonly name: string;
  /** The holder's identifier (the value the lock key holds). */
  readonly holder: string;
  /** Until the lock expires unless its holder refreshes it. */
  readonly remainingMs: number;
  /** Fencing tokens issued for this lock so far (the last one is the current holder's). */
  readonly fenceCounter: number;
}

export async function readLocks(
  client: RedisClient,
  patterns: KeyPatterns,
  options: { maxKeys: number },
): Promise<{ locks: LockInfo[]; complete: boolean }> {
  const scan = await scanKeys(client, patterns.lock.pattern, { maxKeys: options.maxKeys });
  const names = scan.keys.map((key) => patterns.lockName(key)).filter((n) => n !== undefined);
  const locks = await Promise.all(
    names.map(async (name): Promise<LockInfo | undefined> => {
      const key = lockKey(patterns.prefix, name);
      const [holder, pttl, fence] = await Promise.all([
        client.get(key),
        client.pttl(key),
        client.get(fenceCounterKey(patterns.prefix, name)),
      ]);
      if (holder === null) return undefined; // released between the scan and the read
      return { name, holder, remainingMs: pttl, fenceCounter: Number(fence ?? 0) };
    }),
  );
  return {
    locks: locks.filter((l) => l !== undefined).sort((a, b) => a.name.localeCompare(b.name)),
    complete: scan.complete,
  };
}
