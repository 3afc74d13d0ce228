/**
 * Audit events that go with no write of their own (a lock found lost, a fenced write refused by the client before
 * its script ran, a lease lost): one script call (auditRecord) appends the event to the outbox of `slotKey`'s slot.
 */
import type { RedisClient } from "../client.js";
import { callScript } from "../lua/index.js";
import { type AuditOutbox, withAuditContext } from "./outbox.js";

export async function recordAuditEvent(
  client: RedisClient,
  outbox: AuditOutbox,
  slotKey: string,
  kind: string,
  context: Record<string, unknown>,
): Promise<void> {
  const outboxKey = await outbox.stream(slotKey);
  await callScript(client, "auditRecord", { outbox: outboxKey }, withAuditContext([kind] as [string], context));
}

/** Who and where, from the config a node runs with: thread, namespace, run, node and task. */
export function runAuditContext(config: {
  configurable?: Record<string, unknown> | undefined;
  metadata?: Record<string, unknown> | undefined;
}): Record<string, unknown> {
  const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);
  const configurable = config.configurable ?? {};
  const metadata = config.metadata ?? {};
  return {
    threadId: text(configurable.thread_id),
    checkpointNs: text(configurable.checkpoint_ns),
    runId: text(configurable.run_id) ?? text(metadata.run_id),
    node: text(metadata.langgraph_node),
    agent: text(configurable.agent_id),
  };
}
