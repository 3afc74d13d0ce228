/**
 * Replays the saver's journal records into Redis, in order, with the saver's own put and putWrites (both idempotent:
 * a checkpoint or a write stored twice is stored once).
 *
 * Before the first record of a thread and namespace, the thread is checked for checkpoints this process did not
 * write: any checkpoint newer than where the offline branch started (its first checkpoint's parent, or the checkpoint
 * its first writes belong to) that is not one of the journal's own means another process advanced the thread
 * meanwhile. Then the offline branch is not mixed into it: its checkpoints and writes go to a fork thread
 * `<thread>.offline-<time>-<seq>` (named after the branch's first record, so a replay resumed after a crash picks
 * the same fork), and the conflict is reported. A write refused because a newer run lease took the thread over
 * (RunLeaseLostError) forks the rest of the branch the same way.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type { ChannelVersions } from "@langchain/langgraph-checkpoint";
import { RunLeaseLostError } from "../../errors.js";
import type { SaverContext } from "../../saver/context.js";
import { listCheckpoints } from "../../saver/list.js";
import { putCheckpoint } from "../../saver/put.js";
import { putWrites } from "../../saver/put-writes.js";
import type { JournalRecord } from "../journal.js";
import type { OfflineConflict, Replayer } from "../session.js";
import { decodeSaverRecord, recordScope, type SaverRecord } from "./records.js";

/** How many of a thread's newest checkpoints are looked at for another process's progress. */
const CONFLICT_SCAN = 1000;

type Conflict = Extract<OfflineConflict, { kind: "thread" }> & { checkpointIds: string[] };

interface Decision {
  mode: "main" | "fork";
  forkThreadId: string;
  /** The fork has had its first checkpoint (which carries every channel value) in this process. */
  forkSeeded: boolean;
  conflict: Conflict | undefined;
  readonly base: string | undefined;
}

export class SaverReplayer implements Replayer {
  readonly #context: SaverContext;
  readonly #decisions = new Map<string, Decision>();
  #found: OfflineConflict[] = [];
  /** Threads whose offline branch went to a fork in this replay. */
  readonly forkedThreads = new Set<string>();

  constructor(context: SaverContext) {
    this.#context = context;
  }

  async apply(record: JournalRecord, upcoming: readonly JournalRecord[]): Promise<"applied" | "forked"> {
    const decoded = await decodeSaverRecord(this.#context.serde, record);
    const key = `${decoded.threadId}\0${decoded.ns}`;
    let decision = this.#decisions.get(key);
    if (decision === undefined) {
      decision = await this.#decide(decoded, record, upcoming);
      this.#decisions.set(key, decision);
    }
    if (decision.mode === "main") {
      try {
        await this.#write(decoded, decoded.config, decoded.kind === "put" ? decoded.newVersions : undefined);
        return "applied";
      } catch (error) {
        if (!(error instanceof RunLeaseLostError)) throw error;
        this.#fork(decision, decoded, "fenced", undefined);
      }
    }
    await this.#toFork(decision, decoded);
    return "forked";
  }

  takeConflicts(): OfflineConflict[] {
    const found = this.#found;
    this.#found = [];
    return found;
  }

  finished(): void {
    this.#decisions.clear();
    this.forkedThreads.clear();
  }

  async #decide(
    record: SaverRecord,
    journalRecord: JournalRecord,
    upcoming: readonly JournalRecord[],
  ): Promise<Decision> {
    const base = record.kind === "put" ? record.parentId : record.checkpointId;
    const ours = new Set<string>();
    for (const other of upcoming) {
      const scope = recordScope(other);
      if (scope.kind === "put" && scope.threadId === record.threadId && scope.ns === record.ns) {
        ours.add(scope.checkpointId);
      }
    }
    const decision: Decision = {
      mode: "main",
      forkThreadId: `${record.threadId}.offline-${journalRecord.atMs}-${journalRecord.seq}`,
      forkSeeded: false,
      conflict: undefined,
      base,
    };
    let seen = 0;
    for await (const tuple of listCheckpoints(this.#context, {
      configurable: { thread_id: record.threadId, checkpoint_ns: record.ns },
    })) {
      const id = tuple.checkpoint.id;
      if (base !== undefined && id <= base) break;
      if (!ours.has(id)) {
        this.#fork(decision, record, "advanced", id);
        break;
      }
      if (++seen >= CONFLICT_SCAN) break;
    }
    return decision;
  }

  #fork(decision: Decision, record: SaverRecord, reason: "advanced" | "fenced", remote: string | undefined): void {
    decision.mode = "fork";
    decision.conflict = {
      kind: "thread",
      threadId: record.threadId,
      checkpointNs: record.ns,
      reason,
      forkThreadId: decision.forkThreadId,
      baseCheckpointId: decision.base,
      remoteCheckpointId: remote,
      checkpointIds: [],
    };
    this.forkedThreads.add(record.threadId);
    this.#found.push(decision.conflict);
  }

  async #toFork(decision: Decision, record: SaverRecord): Promise<void> {
    const configurable: Record<string, unknown> = { ...record.config.configurable, thread_id: decision.forkThreadId };
    // The fork is a thread of its own: the old run's lease fence does not apply to it.
    for (const name of Object.keys(configurable)) if (name.startsWith("__")) delete configurable[name];
    const config: RunnableConfig = { ...record.config, configurable };
    let newVersions: ChannelVersions | undefined;
    if (record.kind === "put") {
      newVersions = record.newVersions;
      if (!decision.forkSeeded) {
        // The first checkpoint of the fork stores every channel value it has: the earlier versions live in the
        // original thread only.
        newVersions = Object.fromEntries(
          Object.entries(record.checkpoint.channel_versions ?? {}).filter(
            ([channel]) => channel in (record.checkpoint.channel_values ?? {}),
          ),
        );
      }
    }
    await this.#write(record, config, newVersions);
    if (record.kind === "put") {
      decision.forkSeeded = true;
      decision.conflict?.checkpointIds.push(record.checkpointId);
    }
  }

  async #write(record: SaverRecord, config: RunnableConfig, newVersions: ChannelVersions | undefined): Promise<void> {
    if (record.kind === "put") {
      await putCheckpoint(this.#context, config, record.checkpoint, record.metadata, newVersions ?? {});
    } else {
      await putWrites(this.#context, config, record.writes, record.taskId, record.taskPath);
    }
  }
}
