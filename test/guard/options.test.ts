import { guarded, InvalidOptionError } from "langgraph-redis";
import { parseGuardedOptions } from "../../src/guard/options.js";
import { newRedis } from "../helpers/redis.js";

const node = async () => ({});

function optionError(options: unknown): InvalidOptionError {
  try {
    guarded(node, options as Parameters<typeof guarded>[1]);
  } catch (error) {
    if (error instanceof InvalidOptionError) return error;
    throw error;
  }
  throw new Error("expected InvalidOptionError");
}

describe("guarded() options", () => {
  it("apply the documented defaults", () => {
    const client = newRedis();
    const resolved = parseGuardedOptions({ client });
    expect(resolved).toMatchObject({
      key: undefined,
      keyPrefix: "lgr",
      lockTimeoutMs: 10_000,
      refreshIntervalMs: 3333,
      acquireTimeoutMs: 30_000,
      retryIntervalMs: 25,
      fenceTtlMs: 604_800_000,
      onConflict: "wait",
      events: {},
    });
    expect(parseGuardedOptions({ client, lockTimeoutMs: 900 }).refreshIntervalMs).toBe(300);
  });

  it("name the option, echo the value and say what is allowed", () => {
    const client = newRedis();
    const error = optionError({ client, lockTimeoutMs: -1 });
    expect(error.option).toBe("guarded.lockTimeoutMs");
    expect(error.received).toBe(-1);
    expect(optionError({ client, acquireTimeoutMs: 1.5 }).option).toBe("guarded.acquireTimeoutMs");
    expect(optionError({ client, onConflict: "queue" }).option).toBe("guarded.onConflict");
    expect(optionError({ client, key: "" }).option).toBe("guarded.key");
    expect(optionError({ client, key: [] }).option).toBe("guarded.key");
    expect(optionError({ client, keyPrefix: "a{b}" }).option).toBe("guarded.keyPrefix");
    expect(optionError({ client, events: { onAcquired: "yes" } }).option).toBe("guarded.events.onAcquired");
    expect(optionError({}).option).toBe("guarded.client");
  });

  it("require the refresh interval to be shorter than the lock timeout", () => {
    const error = optionError({ client: newRedis(), lockTimeoutMs: 1000, refreshIntervalMs: 1000 });
    expect(error.option).toBe("guarded.refreshIntervalMs");
    expect(error.message).toMatch(/below lockTimeoutMs \(1000\)/);
  });

  it("reject unknown options, such as a misspelt one", () => {
    expect(() => guarded(node, { client: newRedis(), lockTimeout: 5 } as never)).toThrow(/lockTimeout/);
  });
});
