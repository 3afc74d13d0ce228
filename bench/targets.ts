/**
 * The targets from the benchmark issue. Each reads one metric a section recorded; the bench prints every target and
 * whether it was met, and never fails because of one (a miss is a finding, explained in docs/benchmarks.md).
 */
import type { TargetResult } from "./results.js";

type Comparison = "<=" | "<" | ">=";

interface TargetSpec {
  readonly id: string;
  readonly target: string;
  readonly metric: string;
  readonly comparison: Comparison;
  readonly threshold: number;
  readonly unit: "x" | "ms" | "/s" | "round trips" | "MiB";
}

export const TARGETS: readonly TargetSpec[] = [
  {
    id: "peers-put-sqlite",
    target: "RedisSaver put (incremental checkpoint) p50 within 1.0x of SqliteSaver (same run, interleaved)",
    metric: "peers.put.redisOverSqliteP50",
    comparison: "<=",
    threshold: 1,
    unit: "x",
  },
  {
    id: "peers-put-postgres",
    target: "RedisSaver put (incremental checkpoint) p50 at least 3x faster than PostgresSaver (synchronous_commit on)",
    metric: "peers.put.postgresOverRedisP50",
    comparison: ">=",
    threshold: 3,
    unit: "x",
  },
  {
    id: "peers-getTuple-sqlite",
    target: "RedisSaver getTuple p50 within 1.0x of SqliteSaver (same run, interleaved)",
    metric: "peers.getTuple.redisOverSqliteP50",
    comparison: "<=",
    threshold: 1,
    unit: "x",
  },
  {
    id: "peers-getTuple-postgres",
    target: "RedisSaver getTuple p50 at least 3x faster than PostgresSaver (synchronous_commit on)",
    metric: "peers.getTuple.postgresOverRedisP50",
    comparison: ">=",
    threshold: 3,
    unit: "x",
  },
  {
    id: "peers-invoke-sqlite",
    target: "RedisSaver 10-node graph invoke p50 within 1.0x of SqliteSaver (same run, interleaved)",
    metric: "peers.invoke.redisOverSqliteP50",
    comparison: "<=",
    threshold: 1,
    unit: "x",
  },
  {
    id: "peers-invoke-postgres",
    target: "RedisSaver 10-node graph invoke p50 at least 3x faster than PostgresSaver (synchronous_commit on)",
    metric: "peers.invoke.postgresOverRedisP50",
    comparison: ">=",
    threshold: 3,
    unit: "x",
  },
  {
    id: "put-redis-cpu",
    target: "Redis CPU per put at most 2x that of a raw SET of the same bytes",
    metric: "saver.put.redisCpuOverFloor",
    comparison: "<=",
    threshold: 2,
    unit: "x",
  },
  {
    id: "cluster-balance",
    target:
      "3-master cluster, 10,000 threads written uniformly: busiest master at most 1.3x the commands of the least busy",
    metric: "cluster.commandsBusiestOverLeast",
    comparison: "<=",
    threshold: 1.3,
    unit: "x",
  },
  {
    id: "cluster-balance-cpu",
    target:
      "3-master cluster, 10,000 threads written uniformly: busiest master at most 1.3x the Redis CPU of the least busy",
    metric: "cluster.redisCpuBusiestOverLeast",
    comparison: "<=",
    threshold: 1.3,
    unit: "x",
  },
  {
    id: "offline-put",
    target: "RedisSaver put while offline (journaled, fsynced) p50 within 3x of an online put",
    metric: "offline.put.onlineRatioP50",
    comparison: "<=",
    threshold: 3,
    unit: "x",
  },
  {
    id: "put-floor",
    target: "RedisSaver put p50 within 1.5x of the floor (SET of the same bytes)",
    metric: "saver.put.floorRatioP50",
    comparison: "<=",
    threshold: 1.5,
    unit: "x",
  },
  {
    id: "getTuple-floor",
    target: "RedisSaver getTuple p50 within 1.5x of the floor (GET of the same bytes)",
    metric: "saver.getTuple.floorRatioP50",
    comparison: "<=",
    threshold: 1.5,
    unit: "x",
  },
  {
    id: "graph-overhead",
    target: "10-node graph invoke with RedisSaver within 1.3x of MemorySaver (p50)",
    metric: "graph.redisOverMemoryP50",
    comparison: "<=",
    threshold: 1.3,
    unit: "x",
  },
  {
    id: "concurrency-throughput",
    target: "5,000 concurrent threads: at least 20,000 checkpoint puts/s from one process",
    metric: "concurrency.5000.putsPerSec",
    comparison: ">=",
    threshold: 20_000,
    unit: "/s",
  },
  {
    id: "concurrency-p99",
    target: "5,000 concurrent threads: put p99 under 5 ms (at 20,000 puts/s offered)",
    metric: "concurrency.5000.p99AtTargetRateMs",
    comparison: "<",
    threshold: 5,
    unit: "ms",
  },
  {
    id: "delta-memory",
    target: "DeltaChannel chat thread (100 turns): Redis bytes at most 3x the final serialized state",
    metric: "delta.memoryOverState",
    comparison: "<=",
    threshold: 3,
    unit: "x",
  },
  {
    id: "delta-load-commands",
    target: "Loading the latest state of a DeltaChannel thread sends at most 3 commands",
    metric: "delta.loadCommands",
    comparison: "<=",
    threshold: 3,
    unit: "round trips",
  },
  {
    id: "delta-load-p50",
    target: "DeltaChannel thread's latest state within 2x of a plain thread's getTuple (p50), both by the writer",
    metric: "delta.loadOverPlainGetTupleP50",
    comparison: "<=",
    threshold: 2,
    unit: "x",
  },
  {
    id: "delta-cold-load-p50",
    target: "DeltaChannel thread's latest state within 2x of a plain thread's getTuple (p50), both first loads",
    metric: "delta.coldLoadOverPlainGetTupleP50",
    comparison: "<=",
    threshold: 2,
    unit: "x",
  },
  {
    id: "history-getTuple",
    target: "getTuple on 100,000 checkpoints within 1.2x of a 10-checkpoint thread (p50)",
    metric: "history.getTuple.ratio100k",
    comparison: "<=",
    threshold: 1.2,
    unit: "x",
  },
  {
    id: "history-list",
    target: "list(limit 10) on 100,000 checkpoints within 1.2x of a 10-checkpoint thread (p50)",
    metric: "history.list.ratio100k",
    comparison: "<=",
    threshold: 1.2,
    unit: "x",
  },
  {
    id: "memory-incremental",
    target: "Redis memory per incremental checkpoint within 1.5x of the bytes that changed",
    metric: "memory.incrementalOverChanged",
    comparison: "<=",
    threshold: 1.5,
    unit: "x",
  },
  {
    id: "chat-memory-100",
    target: "Plain MessagesAnnotation chat, 100 turns, full history kept: at most 1 MiB in Redis (delta blobs)",
    metric: "chatMemory.delta.100.MiB",
    comparison: "<=",
    threshold: 1,
    unit: "MiB",
  },
  {
    id: "retention-flat",
    target: "keepLast 10: a chat keeping a window of its messages, memory at 1,000 turns within 1.2x of 100 turns",
    metric: "retention.window.growth",
    comparison: "<=",
    threshold: 1.2,
    unit: "x",
  },
  {
    id: "store-search-indexed",
    target: "Store search with a filter that matches 20 of 10,000 items: p50 within 3x of a get (filterIndex)",
    metric: "storeSearch.indexed.equality.floorRatioP50",
    comparison: "<=",
    threshold: 3,
    unit: "x",
  },
  {
    id: "guard-round-trips",
    target: "guarded acquire+release within 3 round trips (commands sent one after another per call)",
    metric: "guard.roundTrips",
    comparison: "<=",
    threshold: 3,
    unit: "round trips",
  },
  {
    id: "audit-put",
    target: "RedisStore put p50 with audit on within 1.2x of audit off",
    metric: "audit.store.put.floorRatioP50",
    comparison: "<=",
    threshold: 1.2,
    unit: "x",
  },
  {
    id: "audit-checkpoint-put",
    target: "RedisSaver put p50 with audit on within 1.2x of audit off",
    metric: "audit.saver.put.floorRatioP50",
    comparison: "<=",
    threshold: 1.2,
    unit: "x",
  },
];

export function formatTargetValue(value: number, unit: TargetSpec["unit"]): string {
  switch (unit) {
    case "x":
      return `${value.toFixed(2)}x`;
    case "ms":
      return `${value.toFixed(2)} ms`;
    case "/s":
      return `${Math.round(value).toLocaleString("en-US")}/s`;
    case "round trips":
      return `${value.toFixed(2)} round trips`;
    case "MiB":
      return `${value.toFixed(2)} MiB`;
  }
}

function meets(value: number, comparison: Comparison, threshold: number): boolean {
  switch (comparison) {
    case "<=":
      return value <= threshold;
    case "<":
      return value < threshold;
    case ">=":
      return value >= threshold;
  }
}

export function evaluateTargets(metrics: ReadonlyMap<string, number>): TargetResult[] {
  return TARGETS.map((spec) => {
    const value = metrics.get(spec.metric);
    if (value === undefined || !Number.isFinite(value)) {
      return { id: spec.id, target: spec.target, measured: null, met: null };
    }
    return {
      id: spec.id,
      target: spec.target,
      measured: formatTargetValue(value, spec.unit),
      met: meets(value, spec.comparison, spec.threshold),
    };
  });
}
