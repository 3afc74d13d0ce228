/**
 * Demo options, from the command line (`npm run demo -- --orders 120 --no-guard`) or the environment
 * (DEMO_ORDERS, DEMO_RATE, DEMO_QUICK=1, DEMO_NO_GUARD=1, DEMO_ONLY=layer|naive). The defaults make the whole
 * demo (both setups) finish in about a minute on a 2-core machine; `--quick` is the short version the tests run.
 */
import { parseArgs } from "node:util";
import { z } from "zod";

export const setupNames = ["layer", "naive"] as const;
export type SetupName = (typeof setupNames)[number];

const optionsSchema = z.object({
  /** Distinct orders published on the order stream. */
  orders: z.number().int().min(10).max(100_000).default(240),
  /** Orders published per second. */
  ratePerSec: z.number().positive().max(1000).default(20),
  /** Customers the orders belong to; fewer customers mean more agents writing one customer's profile at once. */
  customers: z.number().int().min(1).default(12),
  /** Share of orders whose event is delivered twice (an upstream retry), as happens with at-least-once delivery. */
  duplicateRate: z.number().min(0).max(1).default(0.12),
  fraudWorkers: z.number().int().min(1).max(8).default(2),
  paymentWorkers: z.number().int().min(2).max(8).default(2),
  /** Runs each worker process executes at once. */
  concurrency: z.number().int().min(1).max(32).default(8),
  /** One payment worker is killed with SIGKILL once this share of the orders has been published. */
  killAt: z.number().min(0.05).max(0.95).default(0.4),
  /** false turns guarded() into a pass-through, to show what the locks prevent (the demo then exits non-zero). */
  guard: z.boolean().default(true),
  /** Which setups run, in this order. */
  setups: z.array(z.enum(setupNames)).min(1).default(["layer", "naive"]),
  /** Seed of the order generator: the same seed gives the same orders, amounts and fraud scores in both setups. */
  seed: z.number().int().default(7),
  /** Leave the run's keys in Redis (to inspect them with REDIS_URL) instead of deleting them at the end. */
  keep: z.boolean().default(false),
  /** The layer audits every write and lock decision into PostgreSQL and the demo prints one order's audit trail. */
  audit: z.boolean().default(false),
  /** Run the outage demo instead: agents ride out a Redis outage on their offline journals (demo/outage.ts). */
  outage: z.boolean().default(false),
  /** --quick was given (the outage demo shortens its phases too). */
  quick: z.boolean().default(false),
  /** Give up waiting for unfinished runs after this long once the last order is published. */
  drainTimeoutMs: z.number().int().positive().default(30_000),
});

export type DemoOptions = z.output<typeof optionsSchema>;

const quick: Partial<DemoOptions> = { orders: 60, ratePerSec: 30 };

const usage = `usage: npm run demo -- [--orders N] [--rate N] [--quick] [--no-guard] [--only layer|naive]
  --orders N    orders to publish (default 240)
  --rate N      orders per second (default 20)
  --quick       a short run (60 orders at 30/s), as the tests use
  --no-guard    run the nodes without their locks: conflicts appear and the demo exits non-zero
  --only SETUP  run one setup: layer (with langgraph-redis) or naive (without it)
  --seed N      order generator seed (default 7)
  --keep        leave the run's keys in Redis to inspect them (with REDIS_URL; prints their prefix) and
                write the timeline page of resumed runs (langgraph-redis view) to the current folder; the
                layer's processes then audit (events kept in Redis), so the page draws lock holds, waits,
                crashes and resumes
  --outage      a demo of its own: agents keep running while the demo kills its throwaway redis-server by pid,
                restarts it, and checks every checkpoint and write after the journals are replayed
  --audit       record every write and lock decision of the layer in PostgreSQL and print one order's audit
                trail at the end (POSTGRES_URL, else a throwaway local PostgreSQL server)
Environment: REDIS_URL (else a throwaway local redis-server), POSTGRES_URL, DEMO_ORDERS, DEMO_RATE, DEMO_QUICK=1,
DEMO_NO_GUARD=1, DEMO_ONLY, DEMO_SEED, DEMO_AUDIT=1.`;

/** Parses argv and the environment; prints usage and exits 2 on a bad or unknown flag. */
export function demoOptions(argv: readonly string[], env: NodeJS.ProcessEnv): DemoOptions {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(argv).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const isQuick = values.quick === true || env.DEMO_QUICK === "1";
  const only = values.only ?? env.DEMO_ONLY;
  const input: Record<string, unknown> = { ...(isQuick ? quick : {}) };
  const orders = values.orders ?? env.DEMO_ORDERS;
  const rate = values.rate ?? env.DEMO_RATE;
  const seed = values.seed ?? env.DEMO_SEED;
  if (orders !== undefined) input.orders = Number(orders);
  if (rate !== undefined) input.ratePerSec = Number(rate);
  if (seed !== undefined) input.seed = Number(seed);
  if (values["no-guard"] === true || env.DEMO_NO_GUARD === "1") input.guard = false;
  if (only !== undefined) input.setups = [only];
  if (values.keep === true) input.keep = true;
  if (values.audit === true || env.DEMO_AUDIT === "1") input.audit = true;
  if (values.outage === true) input.outage = true;
  if (isQuick) input.quick = true;
  const result = optionsSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    console.error(`invalid demo option ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}\n\n${usage}`);
    process.exit(2);
  }
  return result.data;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      orders: { type: "string" },
      rate: { type: "string" },
      seed: { type: "string" },
      only: { type: "string" },
      quick: { type: "boolean" },
      "no-guard": { type: "boolean" },
      keep: { type: "boolean" },
      audit: { type: "boolean" },
      outage: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
}
