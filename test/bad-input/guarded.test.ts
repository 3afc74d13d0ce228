/**
 * guarded() under hostile lock names: empty, huge, unicode, binary, full of `{ } : * |`, or not strings. Each call
 * either runs the node exactly once under its lock, with a fence for that very name, and releases the lock, or
 * throws a named error without running the node. Two different names never share a lock.
 */
import fc from "fast-check";
import { currentFence, type Fence, guarded } from "../../src/index.js";
import { recordCounts } from "../helpers/counts.js";
import { targets, testPrefix } from "../helpers/redis.js";
import { hostileId, isNamedError, settle } from "./inputs.js";

interface Gate {
  readonly open: Promise<void>;
  release(): void;
}

function gate(): Gate {
  let release!: () => void;
  const open = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { open, release };
}

describe.each(targets)("guarded() with hostile lock names ($name)", ({ name, connect }) => {
  it("runs once under its own lock with its fence, or refuses with a named error", async (context) => {
    const client = connect();
    let tried = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(hostileId, hostileId, async (first, second) => {
        tried++;
        const keyPrefix = testPrefix("badlock");
        const runs: string[] = [];
        const fences = new Map<string, readonly Fence[]>();
        const holding = gate();
        const entered = gate();
        const options = { client, keyPrefix, onConflict: "fail" as const, lockTimeoutMs: 10_000 };
        /** guarded() itself may refuse the key option (InvalidOptionError): then calling it rethrows that. */
        const build = (key: unknown, label: string) => {
          try {
            return guarded(
              async (_state: unknown, config) => {
                runs.push(label);
                fences.set(label, [currentFence(config)].flat());
                if (label === "holder") {
                  entered.release();
                  await holding.open;
                }
                return {};
              },
              { ...options, key: key as string },
            );
          } catch (error) {
            return async () => {
              throw error;
            };
          }
        };
        const holder = build(first, "holder");
        const other = build(second, "other");
        const held = settle(holder({}, { configurable: {} }));
        // wait until the holder runs (or was refused)
        await Promise.race([entered.open, held]);
        const meanwhile = await settle(other({}, { configurable: {} }));
        holding.release();
        const first_ = await held;

        for (const [outcome, key, label] of [
          [first_, first, "holder"],
          [meanwhile, second, "other"],
        ] as const) {
          if (outcome.ok) {
            expect(runs.filter((r) => r === label)).toHaveLength(1);
            if (label === "holder") expect(runs.indexOf("holder")).toBe(0);
            // one fence per name it asked for (an array key locks each of its names), each with a token
            const names = [...new Set(Array.isArray(key) ? key : [key])].sort();
            expect(
              fences
                .get(label)
                ?.map((f) => f.lockKey)
                .sort(),
            ).toEqual(names);
            for (const fence of fences.get(label) ?? []) expect(fence.token).toBeGreaterThan(0);
          } else {
            refused++;
            const overlap = (a: unknown, b: unknown) =>
              (Array.isArray(a) ? a : [a]).some((n) => (Array.isArray(b) ? b : [b]).includes(n));
            const sameName = first_.ok && label === "other" && overlap(first, second);
            // a refusal is a named error; for the second call, a conflict is right only when it asked for the same name
            expect(isNamedError(outcome.error), `threw ${String(outcome.error)}`).toBe(true);
            if ((outcome.error as Error).name === "LockConflictError") expect(sameName).toBe(true);
            expect(runs.filter((r) => r === label)).toHaveLength(0);
          }
        }
        // both locks are free again
        const after = await settle(build(first, "after")({}, { configurable: {} }));
        if (first_.ok) expect(after.ok).toBe(true);
      }),
      {
        numRuns: name === "cluster" ? 50 : 120,
        // names a naive scheme would merge: escapes that look alike, and unpaired surrogates (no UTF-8 form)
        examples: [
          ["a:b", "a%3Ab"],
          ["{a}", "%7Ba%7D"],
          ["a\uD800", "a\uDC00"],
          ["x", ["x", "y"]],
        ],
      },
    );
    recordCounts(context, { inputsTried: tried * 2 });
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(tried * 2);
  });
});
