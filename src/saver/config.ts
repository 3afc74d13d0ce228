/**
 * Reads thread_id, checkpoint_ns and checkpoint_id out of a RunnableConfig, with InvalidConfigError for anything
 * missing where required or of the wrong shape (a number where a string belongs, an empty thread id).
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import { describeValue, InvalidConfigError, InvalidInputError } from "../errors.js";

type Configurable = Record<string, unknown>;

function configurableOf(config: RunnableConfig | undefined, operation: string): Configurable | undefined {
  if (config === null || typeof config !== "object") {
    throw new InvalidConfigError(`${operation}: expected a RunnableConfig object, received ${describeValue(config)}`);
  }
  const configurable = (config as { configurable?: unknown }).configurable;
  if (configurable === undefined) return undefined;
  if (configurable === null || typeof configurable !== "object") {
    throw new InvalidConfigError(
      `${operation}: config.configurable must be an object, received ${describeValue(configurable)}`,
    );
  }
  return configurable as Configurable;
}

function optionalString(configurable: Configurable | undefined, field: string, operation: string): string | undefined {
  const value = configurable?.[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new InvalidConfigError(
      `${operation}: config.configurable.${field} must be a string, received ${describeValue(value)}`,
    );
  }
  return value;
}

export interface ThreadConfig {
  threadId: string;
  ns: string;
  /** config.configurable.checkpoint_id (or the legacy thread_ts); undefined when absent or empty. */
  checkpointId: string | undefined;
}

export interface OptionalThreadConfig {
  threadId: string | undefined;
  /** undefined when the config names no namespace (list() then covers every namespace). */
  ns: string | undefined;
  checkpointId: string | undefined;
}

/** thread_id, checkpoint_ns and checkpoint_id where none is required (getTuple, list). */
export function readOptionalThreadConfig(config: RunnableConfig | undefined, operation: string): OptionalThreadConfig {
  const configurable = configurableOf(config, operation);
  const threadId = optionalString(configurable, "thread_id", operation);
  if (threadId === "") {
    throw new InvalidConfigError(`${operation}: config.configurable.thread_id must not be empty`);
  }
  const ns = optionalString(configurable, "checkpoint_ns", operation);
  const checkpointId =
    optionalString(configurable, "checkpoint_id", operation) || optionalString(configurable, "thread_ts", operation);
  return { threadId, ns, checkpointId: checkpointId || undefined };
}

/** Like readOptionalThreadConfig, but a thread_id is required (put, putWrites); the namespace defaults to "". */
export function readThreadConfig(config: RunnableConfig | undefined, operation: string): ThreadConfig {
  const { threadId, ns, checkpointId } = readOptionalThreadConfig(config, operation);
  if (threadId === undefined) {
    throw new InvalidConfigError(
      `${operation}: config.configurable.thread_id is missing; pass one, e.g. ` +
        `graph.invoke(input, { configurable: { thread_id: "conversation-1" } })`,
    );
  }
  return { threadId, ns: ns ?? "", checkpointId };
}

/** A checkpoint_id is required (putWrites). */
export function requireCheckpointId(config: ThreadConfig, operation: string): string {
  if (config.checkpointId === undefined) {
    throw new InvalidConfigError(`${operation}: config.configurable.checkpoint_id is missing`);
  }
  return config.checkpointId;
}

/** A thread id passed on its own (deleteThread). */
export function requireThreadId(threadId: unknown, operation: string): string {
  if (typeof threadId !== "string" || threadId === "") {
    throw new InvalidInputError(
      `${operation}: expected a non-empty thread id string, received ${describeValue(threadId)}`,
    );
  }
  return threadId;
}
