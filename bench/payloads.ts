/**
 * Checkpoints, writes and items shaped like what LangGraph hands a saver or store, and their serialized sizes (the
 * bytes a floor SET/GET moves). Checkpoint ids come from uuid6, so they increase the way LangGraph's do.
 */
import {
  type ChannelVersions,
  type Checkpoint,
  type CheckpointMetadata,
  JsonPlusSerializer,
  type PendingWrite,
  uuid6,
} from "@langchain/langgraph-checkpoint";

export const serde = new JsonPlusSerializer();

/** Deterministic filler text of `length` characters (varied, so nothing compresses it). */
export function filler(length: number, seed = 1): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,";
  let state = seed >>> 0 || 1;
  let out = "";
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out += alphabet[state % alphabet.length];
  }
  return out;
}

/** A conversation-like channel value of about `bytes` serialized bytes. */
export function messages(bytes: number, seed: number): { role: string; content: string }[] {
  const roles = ["user", "assistant", "tool", "assistant"];
  const each = Math.max(1, Math.floor(bytes / roles.length) - 30);
  return roles.map((role, i) => ({ role, content: filler(each, seed * 7 + i) }));
}

export interface PutArgs {
  readonly checkpoint: Checkpoint;
  readonly metadata: CheckpointMetadata;
  readonly newVersions: ChannelVersions;
  /** The previous checkpoint's id: goes into the put config as checkpoint_id. */
  readonly parentId: string | undefined;
}

export type NextVersion = (current: number | string | undefined) => number | string;

/**
 * Successive checkpoints of one thread, as the Pregel loop produces them: each step bumps the versions of the
 * channels it changed, records them in versions_seen and lists only them in newVersions.
 */
export class CheckpointSequence {
  readonly #values: Record<string, unknown> = {};
  readonly #versions: Record<string, number | string> = {};
  #parentId: string | undefined;
  #step = -1;

  readonly #nextVersion: NextVersion;

  /** `nextVersion` is the saver's getNextVersion, so versions look exactly like the ones a graph would store. */
  constructor(nextVersion: NextVersion = defaultNext) {
    this.#nextVersion = nextVersion;
  }

  next(changes: Record<string, unknown>): PutArgs {
    const newVersions: ChannelVersions = {};
    for (const [channel, value] of Object.entries(changes)) {
      this.#values[channel] = value;
      const version = this.#nextVersion(this.#versions[channel]);
      this.#versions[channel] = version;
      newVersions[channel] = version;
    }
    const checkpoint: Checkpoint = {
      v: 4,
      id: uuid6(this.#step),
      ts: new Date().toISOString(),
      channel_values: { ...this.#values },
      channel_versions: { ...this.#versions },
      versions_seen: { agent: { ...this.#versions } },
    };
    const metadata: CheckpointMetadata = {
      source: this.#step < 0 ? "input" : "loop",
      step: this.#step,
      parents: {},
    };
    const args: PutArgs = { checkpoint, metadata, newVersions, parentId: this.#parentId };
    this.#parentId = checkpoint.id;
    this.#step++;
    return args;
  }
}

function defaultNext(current: number | string | undefined): number {
  return (typeof current === "number" ? current : Number(current ?? 0)) + 1;
}

async function serializedBytes(value: unknown): Promise<number> {
  const [, bytes] = await serde.dumpsTyped(value);
  return bytes.byteLength;
}

/** Bytes a put must move at least: the checkpoint without values, its metadata and each changed channel's value. */
export async function putPayloadBytes(args: PutArgs): Promise<number> {
  const { channel_values, ...rest } = args.checkpoint;
  let total = (await serializedBytes(rest)) + (await serializedBytes(args.metadata));
  for (const channel of Object.keys(args.newVersions)) total += await serializedBytes(channel_values[channel]);
  return total;
}

/** Bytes a full read of the checkpoint moves: the checkpoint with all values and its metadata. */
export async function fullCheckpointBytes(args: PutArgs): Promise<number> {
  return (await serializedBytes(args.checkpoint)) + (await serializedBytes(args.metadata));
}

export async function writesBytes(writes: readonly PendingWrite[]): Promise<number> {
  let total = 0;
  for (const [channel, value] of writes) total += channel.length + (await serializedBytes(value));
  return total;
}

/** The state of a typical agent step: a conversation of about 1 KB and a step counter. */
export const TYPICAL_MESSAGES_BYTES = 1024;

const messagePool = Array.from({ length: 16 }, (_, i) => messages(TYPICAL_MESSAGES_BYTES, i + 1));

/** Values come from a small precomputed pool, so building a step costs the bench almost nothing. */
export function typicalStep(step: number): Record<string, unknown> {
  return { messages: messagePool[step % messagePool.length], step };
}

/** The writes one task of a typical step produces. */
const replyPool = Array.from({ length: 16 }, (_, i) => ({ role: "assistant", content: filler(200, i + 1) }));

export function typicalWrites(step: number): PendingWrite[] {
  return [
    ["messages", replyPool[step % replyPool.length]],
    ["step", step],
  ];
}

/** A store item: a small JSON document with fields a filter can select on. */
export function storeItem(i: number): Record<string, unknown> {
  return {
    orderId: `order-${i}`,
    status: i % 100 === 0 ? "flagged" : i % 2 === 0 ? "open" : "closed",
    amount: (i * 37) % 10_000,
    agent: `agent-${i % 12}`,
    note: filler(160, i),
  };
}

export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

const VOCABULARY = (
  "the a to of and in for on with that this is was are be it as at by from customer user agent order invoice " +
  "account payment shipping delivery address prefers asked about wants said account renewal plan support ticket " +
  "issue resolved pending refund product price discount monday morning evening email phone call meeting next week " +
  "team manager project deadline budget report update review approved rejected contract signed trial premium " +
  "basic annual monthly language english german timezone berlin london notes follow up remind before after"
).split(" ");

/**
 * A memory an agent keeps in the store, about `bytes` of JSON: facts (sentences of everyday words, as an LLM
 * writes them) with their source, confidence and time. Deterministic per seed.
 */
export function memoryRecord(bytes: number, seed: number): Record<string, unknown> {
  let state = seed >>> 0 || 1;
  const next = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  const facts: Record<string, unknown>[] = [];
  const record = { userId: `user-${seed}`, kind: "profile", facts };
  while (jsonBytes(record) < bytes) {
    const words = Array.from({ length: 8 + next(14) }, () => VOCABULARY[next(VOCABULARY.length)]);
    facts.push({
      fact: `${words.join(" ")}.`,
      source: next(3) === 0 ? "tool" : "conversation",
      confidence: (50 + next(50)) / 100,
      recordedAt: new Date(Date.UTC(2026, next(12), 1 + next(28), next(24), next(60))).toISOString(),
    });
  }
  return record;
}
