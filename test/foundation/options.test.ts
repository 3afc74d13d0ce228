import { Annotation, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import { z } from "zod";
import { InvalidOptionError, LangGraphRedisError } from "../../src/errors.js";
import {
  aclRules,
  findCrashedRuns,
  guarded,
  RedisSaver,
  RedisStore,
  resumeCrashedRuns,
  startRecoveryWorker,
  withRunLease,
} from "../../src/index.js";
import { durationMsSchema, keyPrefixSchema, parseOptions } from "../../src/options.js";
import { newRedis, testPrefix } from "../helpers/redis.js";

const schema = z.object({ keyPrefix: keyPrefixSchema, ttlMs: durationMsSchema.optional() }).strict();

describe("parseOptions", () => {
  it("applies defaults", () => {
    expect(parseOptions(schema, undefined, "Thing")).toEqual({ keyPrefix: "lgr" });
  });

  it("names the option, echoes the value and says what is allowed", () => {
    let error: unknown;
    try {
      parseOptions(schema, { ttlMs: -5 }, "Thing");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toBeInstanceOf(LangGraphRedisError);
    const e = error as InvalidOptionError;
    expect(e.name).toBe("InvalidOptionError");
    expect(e.option).toBe("Thing.ttlMs");
    expect(e.received).toBe(-5);
    expect(e.message).toMatch(/Invalid option `Thing\.ttlMs`.*received -5/);
  });

  it("rejects a key prefix that would open a hash tag", () => {
    expect(() => parseOptions(schema, { keyPrefix: "a{b" }, "Thing")).toThrow(/keyPrefix.*without braces.*"a\{b"/);
  });

  it("rejects unknown options", () => {
    expect(() => parseOptions(schema, { tllMs: 5 }, "Thing")).toThrow(InvalidOptionError);
  });
});

describe("unknown options, everywhere: named, with the close match", () => {
  const client = newRedis();
  const graph = () =>
    new StateGraph(Annotation.Root({ n: Annotation<number> }))
      .addNode("step", () => ({ n: 1 }))
      .addEdge(START, "step")
      .addEdge("step", END)
      .compile({ checkpointer: new MemorySaver() });
  const app = withRunLease(graph(), { client, keyPrefix: testPrefix("opt") });

  function errorOf(run: () => unknown): InvalidOptionError {
    try {
      run();
    } catch (error) {
      if (error instanceof InvalidOptionError) return error;
      throw error;
    }
    throw new Error("no InvalidOptionError was thrown");
  }
  async function asyncErrorOf(run: () => Promise<unknown>): Promise<InvalidOptionError> {
    const error = await run().then(
      () => new Error("no InvalidOptionError was thrown"),
      (e: unknown) => e,
    );
    if (error instanceof InvalidOptionError) return error;
    throw error;
  }

  it.each([
    ["RedisSaver.keyprefix", () => new RedisSaver({ client, keyprefix: "tenantZ" } as never), "keyPrefix"],
    ["RedisSaver.ttl.defaultTtl", () => new RedisSaver({ client, ttl: { defaultTtl: 1000 } } as never), "defaultTtlMs"],
    [
      "RedisSaver.fromUrl.keyprefix",
      () => RedisSaver.fromUrl("redis://127.0.0.1:1", { keyprefix: "x" } as never),
      "keyPrefix",
    ],
    [
      "RedisSaver.compression.minByte",
      () => new RedisSaver({ client, compression: { minByte: 10 } } as never),
      "minBytes",
    ],
    [
      "RedisSaver.blobDeltas.maxChian",
      () => new RedisSaver({ client, blobDeltas: { maxChian: 3 } } as never),
      "maxChain",
    ],
    ["withRunLease.leaseMS", () => withRunLease(graph(), { client, leaseMS: 5 } as never), "leaseMs"],
    ["RedisStore.keyprefix", () => new RedisStore({ client, keyprefix: "x" } as never), "keyPrefix"],
    ["guarded.lockTimeout", () => guarded(async () => ({}), { client, lockTimeout: 5 } as never), "lockTimeoutMs"],
    ["aclRules.cluser", () => aclRules({ cluser: true } as never), "cluster"],
    ["startRecoveryWorker.interval", () => startRecoveryWorker(app, { interval: 5 } as never), "intervalMs"],
  ])("%s", (option, run, suggestion) => {
    const error = errorOf(run);
    expect(error.option).toBe(option);
    expect(error.message).toContain(`did you mean \`${suggestion}\`?`);
  });

  it("in async entry points and nested objects too", async () => {
    const find = await asyncErrorOf(() => findCrashedRuns(app, { limt: 5 } as never));
    expect(find.option).toBe("findCrashedRuns.limt");
    expect(find.message).toContain("did you mean `limit`?");
    const resume = await asyncErrorOf(() => resumeCrashedRuns(app, { concurrency: 2, claimMS: 500 } as never));
    expect(resume.option).toBe("resumeCrashedRuns.claimMS");
    expect(resume.received).toBe(500);
    const nested = errorOf(() => new RedisSaver({ client, durability: { waitForReplica: 1 } } as never));
    expect(nested.option).toBe("RedisSaver.durability.waitForReplica");
    expect(nested.message).toContain("did you mean `waitForReplicas`?");
  });

  it("lists the known options when nothing is close", () => {
    const error = errorOf(() => new RedisSaver({ client, somethingElse: 1 } as never));
    expect(error.option).toBe("RedisSaver.somethingElse");
    expect(error.message).toContain("one of the known options (client, keyPrefix, ttl,");
  });

  it("reports the unknown option before a missing one it probably explains", () => {
    const error = errorOf(() => new RedisSaver({ clinet: client } as never));
    expect(error.option).toBe("RedisSaver.clinet");
    expect(error.message).toContain("did you mean `client`?");
  });
});
