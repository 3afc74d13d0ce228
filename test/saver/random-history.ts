/**
 * Random checkpoint histories written identically to several savers: forks, two namespaces, channels whose value
 * is a DeltaSnapshot, a plain value or absent (a version with no value), concurrent tasks with task paths, and a run
 * id per block of steps. Seeded, so a failure can be replayed from the seed in its message.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import {
  type BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointMetadata,
  DeltaSnapshot,
  emptyCheckpoint,
} from "@langchain/langgraph-checkpoint";

export const CHANNELS = ["messages", "log", "other"] as const;

/** A seeded generator of numbers in [0, 1) (mulberry32): the same seed, the same sequence. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Stored {
  config: RunnableConfig;
  channels: Record<string, { version: number; value: unknown }>;
  writtenChannels: Set<string>;
}

export interface HistoryStep {
  config: RunnableConfig;
  runId: string;
}

/**
 * Writes the same random history of `steps` checkpoints to every saver given, on thread `threadId`. With
 * `growingBytes`, most channel values are lists that grow by an item of about that many bytes per version (from
 * the parent's list), so a RedisSaver stores them as delta blobs on earlier versions. Channels in `deltaChannels`
 * are DeltaChannels as LangGraph writes them: a checkpoint that stores no value of one counts it in its metadata's
 * counters_since_delta_snapshot (its value is rebuilt from the ancestors' writes). With `nullValues`, some values
 * are JSON null (as LangGraph's branch channels are), kept by children like any value. With `strandedWrites`, some
 * steps are followed by the writes of a step whose checkpoint is never put (a process killed between the two), under
 * the id `<step id>-lost`, which sorts between that step and the next.
 */
export async function randomHistory(
  savers: readonly BaseCheckpointSaver[],
  threadId: string,
  seed: number,
  steps: number,
  {
    growingBytes,
    deltaChannels = [],
    exists,
    nullValues = false,
    strandedWrites = false,
  }: {
    growingBytes?: number;
    deltaChannels?: readonly string[];
    /** Forks only from checkpoints this says still exist (a saver with retention removed the others). */
    exists?: (config: RunnableConfig) => Promise<boolean>;
    nullValues?: boolean;
    strandedWrites?: boolean;
  } = {},
): Promise<HistoryStep[]> {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  let version = 0;
  const stored: Stored[] = [];
  const result: HistoryStep[] = [];
  for (let step = 0; step < steps; step++) {
    const ns = next() < 0.75 ? "" : "child:1";
    const runId = `run-${Math.floor(step / 8)}`;
    const inNs = stored.filter((s) => s.config.configurable?.checkpoint_ns === ns);
    const present = exists === undefined ? undefined : await Promise.all(inNs.map((s) => exists(s.config)));
    const sameNs = present === undefined ? inNs : inNs.filter((_, i) => present[i]);
    const parent = sameNs.length === 0 ? undefined : next() < 0.7 ? sameNs.at(-1) : pick(sameNs);
    const channels = { ...(parent?.channels ?? {}) };
    const newVersions: ChannelVersions = {};
    for (const channel of CHANNELS) {
      // A channel written on the parent always gets a new version (as LangGraph bumps it); others sometimes.
      if (!parent?.writtenChannels.has(channel) && next() >= 0.3) continue;
      version += 1;
      newVersions[channel] = version;
      const kind = next();
      const grown = (item: string) => {
        const before = parent?.channels[channel]?.value;
        return [...(Array.isArray(before) ? before : []), `${item}-${"g".repeat(growingBytes ?? 0)}`];
      };
      const value =
        nullValues && kind >= 0.5 && kind < 0.8
          ? null
          : kind < 0.15
            ? new DeltaSnapshot([`snap-${step}`])
            : growingBytes !== undefined
              ? kind < 0.9
                ? grown(`grown-${step}`)
                : undefined
              : kind < 0.25
                ? [`plain-${step}`]
                : undefined;
      channels[channel] = { version, value };
    }
    const channelValues: Record<string, unknown> = {};
    const channelVersions: ChannelVersions = {};
    for (const [channel, entry] of Object.entries(channels)) {
      channelVersions[channel] = entry.version;
      if (entry.value !== undefined) channelValues[channel] = entry.value;
    }
    const checkpoint: Checkpoint = {
      ...emptyCheckpoint(),
      id: `cp-${String(step).padStart(5, "0")}`,
      ts: new Date(Date.UTC(2026, 0, 1, 0, 0, step)).toISOString(),
      channel_values: channelValues,
      channel_versions: channelVersions,
    };
    const config: RunnableConfig = {
      configurable: {
        thread_id: threadId,
        checkpoint_ns: ns,
        checkpoint_id: parent?.config.configurable?.checkpoint_id,
      },
    };
    const counters = Object.fromEntries(
      deltaChannels.filter((channel) => !Object.hasOwn(channelValues, channel)).map((channel) => [channel, [1, 1]]),
    );
    const metadata = {
      source: "loop",
      step,
      parents: {},
      run_id: runId,
      ...(Object.keys(counters).length > 0 ? { counters_since_delta_snapshot: counters } : {}),
    } as unknown as CheckpointMetadata;
    const configs = await Promise.all(savers.map((s) => s.put(config, checkpoint, metadata, newVersions)));
    const written = new Set<string>();
    const tasks = Math.floor(next() * 3);
    for (let task = 0; task < tasks; task++) {
      const taskId = `task-${pick(["a", "b", "c", "é", "z"])}-${task}`;
      const taskPath = pick(["", "~__pregel_pull, reply", "~__pregel_push, 0"]);
      const writes = Array.from({ length: 1 + Math.floor(next() * 3) }, (_, i) => {
        const channel = pick([...CHANNELS, "unrelated"]);
        written.add(channel);
        return [channel, [`w-${step}-${task}-${i}`]] as [string, unknown];
      });
      for (let i = 0; i < savers.length; i++) {
        await (savers[i] as BaseCheckpointSaver).putWrites(configs[i] as RunnableConfig, writes, taskId, taskPath);
      }
    }
    if (strandedWrites && next() < 0.2) {
      const lost = { configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: `${checkpoint.id}-lost` } };
      for (const saver of savers) await saver.putWrites(lost, [["messages", [`lost-${step}`]]], `task-lost-${step}`);
    }
    stored.push({ config: configs[0] as RunnableConfig, channels, writtenChannels: written });
    result.push({ config: configs[0] as RunnableConfig, runId });
  }
  return result;
}
