/**
 * Race test with real processes: a fraud agent and a payment agent, each its own graph process, work through the
 * same orders at the same time, each node guarded on its order. From the critical sections they record in Redis
 * (server clock), it checks that no order was processed by both at once and that no order was approved after its
 * fraud flag was written. The same run with guarding turned off must show both failures, so the check has teeth.
 *
 * GUARD_RACE_ORDERS sets the number of orders of the guarded runs (default 500); the control runs 200.
 */
import { inject } from "vitest";
import type { RedisClient } from "../../src/client.js";
import { newCluster, newRedis, testPrefix } from "../helpers/redis.js";
import { finished, startProgram, stopAll } from "./processes.js";

const ORDERS = Number(process.env.GUARD_RACE_ORDERS ?? 500);
const CONTROL_ORDERS = 200;

interface Summary {
  role: string;
  conflicts: number;
  outcomes: Record<string, number>;
  ms: number;
}

interface RaceReport {
  orders: number;
  complete: number;
  overlapping: number;
  flagged: number;
  /** Approved although the flag was written before the payment agent got the order's lock. */
  approvedFlaggedBeforeLock: number;
  /** Approved although the flag was written before the approval (the chargeback). */
  approvedAfterFlag: number;
  agents: Summary[];
}

async function race(url: string, client: RedisClient, guard: boolean, orders: number): Promise<RaceReport> {
  const prefix = testPrefix("race");
  try {
    const agents = ["fraud", "payment"].map((role) =>
      startProgram("order-agent.ts", [role, url, prefix, String(orders), guard ? "on" : "off"]),
    );
    const outputs = await Promise.all(agents.map((agent) => finished(agent, 300_000)));
    const summaries = outputs.map((lines) => JSON.parse(lines.at(-1) ?? "{}") as Summary);
    return { ...(await analyse(client, prefix, orders)), agents: summaries };
  } finally {
    await stopAll();
  }
}

async function analyse(client: RedisClient, prefix: string, orders: number): Promise<Omit<RaceReport, "agents">> {
  const report = {
    orders,
    complete: 0,
    overlapping: 0,
    flagged: 0,
    approvedFlaggedBeforeLock: 0,
    approvedAfterFlag: 0,
  };
  const lists = await Promise.all(
    Array.from({ length: orders }, (_, id) => client.lrange(`${prefix}:race:{o${id}}:events`, 0, -1)),
  );
  for (const entries of lists) {
    const at = new Map<string, number>();
    for (const entry of entries) {
      const [role, kind, micros] = entry.split("|");
      at.set(`${role}.${kind}`, Number(micros));
    }
    const [fs, fe, ps, pe] = ["fraud.start", "fraud.end", "payment.start", "payment.end"].map((k) => at.get(k));
    if (fs === undefined || fe === undefined || ps === undefined || pe === undefined) continue;
    report.complete++;
    if (Math.max(fs, ps) < Math.min(fe, pe)) report.overlapping++;
    const flag = at.get("fraud.flag");
    const approve = at.get("payment.approve");
    if (flag === undefined) continue;
    report.flagged++;
    if (approve !== undefined && flag < ps) report.approvedFlaggedBeforeLock++;
    if (approve !== undefined && flag < approve) report.approvedAfterFlag++;
  }
  return report;
}

const deployments = [
  { name: "standalone", url: () => inject("redisUrl"), connect: newRedis },
  { name: "cluster", url: () => `redis+cluster://${inject("clusterNodes")}`, connect: newCluster },
];

describe.each(deployments)("fraud and payment agents racing over the same orders on $name", ({ url, connect }) => {
  it(`guarded: no order processed by both at once, no flagged order approved (${ORDERS} orders)`, async () => {
    const report = await race(url(), connect(), true, ORDERS);
    console.log(`guarded race: ${JSON.stringify(report)}`);
    expect(report.complete).toBe(ORDERS);
    expect(report.flagged).toBe(Math.ceil(ORDERS / 3));
    expect(report.overlapping).toBe(0);
    expect(report.approvedFlaggedBeforeLock).toBe(0);
    expect(report.approvedAfterFlag).toBe(0);
  });

  it("unguarded (the control): the same check finds overlapping orders and approved flagged orders", async () => {
    const report = await race(url(), connect(), false, CONTROL_ORDERS);
    console.log(`unguarded race: ${JSON.stringify(report)}`);
    expect(report.complete).toBe(CONTROL_ORDERS);
    expect(report.overlapping).toBeGreaterThan(0);
    expect(report.approvedAfterFlag).toBeGreaterThan(0);
  });
});
