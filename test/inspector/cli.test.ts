/**
 * The inspector CLI against real Redis (standalone and cluster), on data written by real graphs: every command's
 * --json shape, the tables, and the exit codes of the error cases.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BaseMessage, HumanMessage } from "@langchain/core/messages";
import { inject } from "vitest";
import { aclRules } from "../../src/acl.js";
import type { RedisClient } from "../../src/client.js";
import { EncryptedSerializer } from "../../src/encryption/serializer.js";
import { EXIT } from "../../src/inspector/errors.js";
import { RedisSaver } from "../../src/saver/redis-saver.js";
import { RedisStore } from "../../src/store/redis-store.js";
import { canStartServers, connect as connectTo, startServer } from "../helpers/local-servers.js";
import { newCluster, newRedis, redisUrl, testPrefix } from "../helpers/redis.js";
import { waitUntil } from "../recovery/helpers.js";
import { deltaReplyGraph } from "../saver/delta-graph.js";
import { chatGraph, type Fixture, writeDeltaChannelThread, writeFixture } from "./fixture.js";
import { runCli } from "./run-cli.js";

const GRAPH_MODULE = fileURLToPath(new URL("./graph-module.ts", import.meta.url));

const targets = [
  { name: "standalone", connect: newRedis, url: () => redisUrl() },
  { name: "cluster", connect: newCluster, url: () => `redis+cluster://${inject("clusterNodes")}` },
] as const;

describe.each(targets)("inspector CLI on $name", ({ connect, url }) => {
  let client: RedisClient;
  let prefix: string;
  let fixture: Fixture;
  const cli = (...argv: string[]) => runCli(["--url", url(), "--prefix", prefix, "--quiet", ...argv]);

  beforeAll(async () => {
    client = connect();
    prefix = testPrefix("insp");
    fixture = await writeFixture(client, prefix, connect);
  });

  it("threads: newest first, with status, steps, size and last writer", async () => {
    const run = await cli("threads", "--json");
    expect(run.code, run.stderr).toBe(EXIT.ok);
    const { threads } = run.json<{ threads: Record<string, unknown>[] }>();
    const ids = threads.map((t) => t.threadId);
    expect(ids).toEqual(expect.arrayContaining([fixture.chatThread, fixture.forkThread, fixture.crashedThread]));
    const times = threads.map((t) => t.lastWriteMs as number);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const chat = threads.find((t) => t.threadId === fixture.chatThread);
    expect(chat).toMatchObject({ status: "done", step: expect.any(Number), lastWriter: ["payment"] });
    expect(chat?.checkpoints).toBeGreaterThanOrEqual(8);
    expect(chat?.bytes).toBeGreaterThan(100);
    const crashed = threads.find((t) => t.threadId === fixture.crashedThread);
    // How far the run got before it died depends on timing; work is pending either way.
    expect(crashed).toMatchObject({ status: "crashed", next: expect.arrayContaining([expect.any(String)]) });
    expect(crashed?.lease).toMatchObject({ graph: "crashy", state: "expired", holder: { owner: "worker-7" } });

    const filtered = await cli("threads", "--status", "crashed", "--json");
    expect(filtered.json<{ threads: { threadId: string }[] }>().threads.map((t) => t.threadId)).toEqual([
      fixture.crashedThread,
    ]);
    const matched = await cli("threads", "--match", "chat-*", "--json");
    expect(
      matched
        .json<{ threads: { threadId: string }[] }>()
        .threads.map((t) => t.threadId)
        .sort(),
    ).toEqual([fixture.chatThread, fixture.forkThread].sort());
    const text = await cli("threads");
    expect(text.stdout).toMatch(/^THREAD\s+LAST WRITE\s+STATUS/);
    expect(text.stdout).toContain(fixture.crashedThread);
  });

  it("history: every checkpoint with step, source, node, writes, time and bytes; a fork is a branch", async () => {
    const run = await cli("history", fixture.forkThread, "--json");
    expect(run.code, run.stderr).toBe(EXIT.ok);
    const data = run.json<{ branches: number; checkpoints: Record<string, unknown>[] }>();
    expect(data.branches).toBe(2);
    const update = data.checkpoints.find((c) => c.source === "update");
    expect(update).toMatchObject({ branch: 1, forkStart: true, channels: ["messages"] });
    const payment = data.checkpoints.filter((c) => (c.writers as string[]).includes("payment"));
    expect(payment.map((c) => c.branch).sort()).toEqual([0, 1]);
    for (const c of data.checkpoints) {
      expect(c).toMatchObject({
        checkpointId: expect.any(String),
        step: expect.any(Number),
        timeMs: expect.any(Number),
      });
      expect(c.bytes).toBeGreaterThan(0);
    }
    const text = await cli("history", fixture.forkThread);
    expect(text.stdout).toContain("┐");
    expect(text.stdout).toMatch(/1 fork/);
  });

  it("state: channel values, messages as a transcript, any checkpoint", async () => {
    const run = await cli("state", fixture.chatThread, "--json");
    expect(run.code, run.stderr).toBe(EXIT.ok);
    const data = run.json<{ values: { messages: { role: string; content: string }[]; charged: number } }>();
    expect(data.values.messages.map((m) => m.role)).toEqual(["human", "ai", "human", "ai"]);
    expect(data.values.charged).toBe(2);
    const text = await cli("state", fixture.chatThread);
    expect(text.stdout).toContain("messages (4 messages):");
    expect(text.stdout).toContain("human: second order");

    const history = (await cli("history", fixture.chatThread, "--json")).json<{
      checkpoints: { checkpointId: string; step: number }[];
    }>();
    const first = history.checkpoints.find((c) => c.step === 1);
    const old = await cli("state", fixture.chatThread, "--checkpoint", first?.checkpointId ?? "", "--json");
    expect(old.json<{ values: { messages: unknown[] } }>().values.messages).toHaveLength(2);
  });

  it("state of a DeltaChannel thread: messages rebuilt as LangGraph reads them, other channels as stored", async () => {
    const threadId = "delta-chat";
    const graph = await writeDeltaChannelThread(client, prefix, threadId);
    const history = (await cli("history", threadId, "--json")).json<{ checkpoints: { checkpointId: string }[] }>();
    expect(history.checkpoints.length).toBeGreaterThanOrEqual(12);
    type Delta = { rebuilt: boolean; writes: number; updatesSinceSnapshot?: number };
    type Values = {
      messages?: { role: string; content: string }[];
      log?: number[] | { snapshot?: number[]; writes: number[][] };
    };
    const kinds = new Set<string>();
    // Every checkpoint: what the inspector shows is the graph's own state there.
    for (const { checkpointId } of history.checkpoints) {
      const run = await cli("state", threadId, "--checkpoint", checkpointId, "--json");
      expect(run.code, run.stderr).toBe(EXIT.ok);
      const { values, deltaChannels = {} } = run.json<{ values: Values; deltaChannels?: Record<string, Delta> }>();
      const state = await graph.getState({ configurable: { thread_id: threadId, checkpoint_id: checkpointId } });
      const expected = state.values as { messages?: BaseMessage[]; log?: number[] };
      const messages = (expected.messages ?? []).map((m) => ({ role: m.getType(), content: m.content }));
      if (messages.length > 0 || values.messages !== undefined) {
        expect(values.messages?.map(({ role, content }) => ({ role, content }))).toEqual(messages);
      }
      const log = values.log;
      if (log !== undefined && !Array.isArray(log)) {
        // Not rebuilt: the snapshot and the writes since, which this reducer appends.
        expect(deltaChannels.log).toMatchObject({ rebuilt: false, writes: log.writes.length });
        expect([...(log.snapshot ?? []), ...log.writes.flat()]).toEqual(expected.log);
        kinds.add("log as stored");
      } else if (log !== undefined) {
        expect(log).toEqual(expected.log);
      }
      const delta = deltaChannels.messages;
      if (delta) kinds.add(delta.writes > 0 ? "messages from history" : "messages snapshot");
    }
    expect([...kinds].sort()).toEqual(["log as stored", "messages from history", "messages snapshot"]);

    const latest = await cli("state", threadId);
    expect(latest.stdout).toContain("messages (8 messages; DeltaChannel, its snapshot and 2 writes since):");
    expect(latest.stdout).toContain("human: question 3");
    expect(latest.stdout).toContain("log (DeltaChannel: its snapshot and 1 write since, which the graph's reducer");
    expect(latest.stdout).toContain("snapshot: [1,3,5]");
  });

  it("encrypted values: named as such without keys, read with --keys-file (never echoed), a bad file refused", async () => {
    const key = randomBytes(32);
    const encryption = { keys: { "2026-11": key }, currentKeyId: "2026-11" };
    const graph = deltaReplyGraph(
      new RedisSaver({ client, keyPrefix: prefix, serde: new EncryptedSerializer(encryption) }),
      100,
    );
    const config = { configurable: { thread_id: "sealed" } };
    await graph.invoke({ messages: [new HumanMessage({ content: "card 4111", id: "q0" })] }, config);
    await new RedisStore({ client, keyPrefix: prefix, encryption }).put(["vault"], "card", { number: "4111" });
    const dir = mkdtempSync(join(tmpdir(), "inspector-keys-"));
    try {
      const keysFile = join(dir, "keys.json");
      writeFileSync(keysFile, JSON.stringify({ "2026-11": key.toString("base64") }));
      const badFile = join(dir, "bad.json");
      writeFileSync(badFile, JSON.stringify({ "2026-11": "c2hvcnQ=" }));

      const without = await cli("state", "sealed");
      expect(without.code).toBe(EXIT.failed);
      expect(without.stderr).toContain('it is encrypted (type "json+aes256gcm", key id "2026-11")');
      expect(without.stderr).toContain("--keys-file");
      const storeWithout = await cli("store", "get", "vault", "card");
      expect(storeWithout.code).toBe(EXIT.failed);
      expect(storeWithout.stderr).toContain("--keys-file");

      const state = await cli("state", "sealed", "--keys-file", keysFile, "--json");
      expect(state.code, state.stderr).toBe(EXIT.ok);
      const values = state.json<{ values: { messages: { role: string; content: string }[] } }>().values;
      expect(values.messages.map((m) => `${m.role}: ${m.content}`)).toEqual(["human: card 4111", "ai: reply 1"]);
      const item = await runCli(["--url", url(), "--prefix", prefix, "-q", "store", "get", "vault", "card", "--json"], {
        LANGGRAPH_REDIS_KEYS_FILE: keysFile,
      });
      expect(item.code, item.stderr).toBe(EXIT.ok);
      expect(item.json<{ item: { value: unknown } }>().item.value).toEqual({ number: "4111" });
      // Plaintext threads read the same with keys given.
      expect((await cli("state", fixture.chatThread, "--keys-file", keysFile)).code).toBe(EXIT.ok);

      const bad = await cli("state", "sealed", "--keys-file", badFile);
      expect(bad.code).toBe(EXIT.usage);
      expect(bad.stderr).toMatch(/expected a 32-byte key/);
      expect(bad.stderr).not.toContain("c2hvcnQ");
      expect((await cli("state", "sealed", "--keys-file", join(dir, "missing.json"))).code).toBe(EXIT.usage);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("locks: held now, with holder, time left and fence counter", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = false;
    const graph = chatGraph(client, prefix, async () => {
      entered = true;
      await held;
    });
    const running = graph.invoke({ messages: [], orderId: "o-9" }, { configurable: { thread_id: "locked" } });
    try {
      await waitUntil(() => entered);
      const run = await cli("locks", "--json");
      expect(run.code, run.stderr).toBe(EXIT.ok);
      const { locks } = run.json<{ locks: Record<string, unknown>[] }>();
      expect(locks).toEqual([
        {
          name: "order:o-9",
          holder: expect.any(String),
          remainingMs: expect.any(Number),
          fenceCounter: expect.any(Number),
        },
      ]);
      expect(locks[0]?.remainingMs).toBeGreaterThan(0);
      expect(locks[0]?.fenceCounter).toBeGreaterThan(0);
    } finally {
      release();
      await running;
    }
    const after = await cli("locks", "--json");
    expect(after.json<{ locks: unknown[] }>().locks).toEqual([]);
  });

  it("runs and resume: the crashed run, resumed with progress, exactly once", async () => {
    const runs = await cli("runs", "--json");
    expect(runs.code, runs.stderr).toBe(EXIT.ok);
    const data = runs.json<{ runs: Record<string, unknown>[] }>();
    expect(data.runs).toEqual([
      expect.objectContaining({
        graph: "crashy",
        threadId: fixture.crashedThread,
        state: "expired",
        run: "crashed",
        holder: expect.objectContaining({ owner: "worker-7", kind: "lease" }),
      }),
    ]);
    const exact = await cli("runs", "--graph", GRAPH_MODULE, "--json");
    expect(exact.json<{ runs: { run: string; pendingNodes: string[] }[] }>().runs).toEqual([
      expect.objectContaining({ threadId: fixture.crashedThread, run: "crashed" }),
    ]);

    const dry = await cli("resume", "--graph", GRAPH_MODULE, "--dry-run", "--json");
    expect(dry.json<{ runs: { threadId: string }[] }>().runs.map((r) => r.threadId)).toEqual([fixture.crashedThread]);

    const resume = await runCli(["--url", url(), "--prefix", prefix, "resume", "--graph", GRAPH_MODULE, "--json"]);
    expect(resume.code, resume.stderr).toBe(EXIT.ok);
    expect(resume.json()).toMatchObject({ total: 1, resumed: 1, failed: 0, results: [{ outcome: "resumed" }] });
    expect(resume.stderr).toContain("resume: 1/1 settled (1 resumed");
    const saver = new RedisSaver({ client, keyPrefix: prefix });
    const state = await saver.getTuple({ configurable: { thread_id: fixture.crashedThread } });
    expect(state?.checkpoint.channel_values.trail).toEqual(["a(7)", "b1(7)", "b2(7)", "c(7)"]);
    const again = await cli("resume", "--graph", GRAPH_MODULE, "--json");
    expect(again.json()).toMatchObject({ total: 0 });
  });

  it("store ls, get and history: who wrote what, in order", async () => {
    const ls = await cli("store", "ls", "--json");
    expect(ls.json<{ namespaces: string[][] }>().namespaces).toEqual(
      expect.arrayContaining([fixture.namespace, ["orders", "o-2"]]),
    );
    const items = await cli("store", "ls", fixture.namespace.join("."), "--json");
    expect(items.json<{ items: Record<string, unknown>[] }>().items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: "status", version: 2, updatedBy: "payment-agent", value: { charged: 2 } }),
        expect.objectContaining({ key: "note", version: 1, updatedBy: "fraud-agent" }),
      ]),
    );
    const get = await cli("store", "get", fixture.namespace.join("."), fixture.key, "--json");
    expect(get.json()).toMatchObject({ item: { key: "status", version: 2, value: { charged: 2 } } });
    const history = await cli("store", "history", fixture.namespace.join("."), fixture.key, "--json");
    const entries = history.json<{ history: Record<string, unknown>[] }>().history;
    expect(entries.map((e) => [e.version, e.op, e.writer])).toEqual([
      [1, "put", "payment-agent"],
      [2, "put", "payment-agent"],
    ]);
    const text = await cli("store", "history", fixture.namespace.join("."), fixture.key);
    expect(text.stdout).toMatch(/^VERSION\s+OP\s+WRITER/);
  });

  it("memory: bytes per thread and namespace from a bounded SCAN of the prefix", async () => {
    const run = await cli("memory", "--json");
    expect(run.code, run.stderr).toBe(EXIT.ok);
    const data = run.json<{
      complete: boolean;
      totalBytes: number;
      keysScanned: number;
      byKind: { name: string; bytes: number }[];
      threads: { name: string; bytes: number }[];
      namespaces: { name: string; bytes: number }[];
    }>();
    expect(data.complete).toBe(true);
    expect(data.threads.map((t) => t.name)).toEqual(expect.arrayContaining([fixture.chatThread, fixture.forkThread]));
    expect(data.namespaces.map((n) => n.name)).toContain("orders.o-1");
    const sum = data.byKind.reduce((a, k) => a + k.bytes, 0);
    expect(sum).toBe(data.totalBytes);
    expect(data.byKind.find((k) => k.name === "other")).toBeUndefined();

    const sampled = await cli("memory", "--max-keys", "3", "--json");
    expect(sampled.json()).toMatchObject({ complete: false, keysScanned: 3 });
  });

  it("not found: a thread, a checkpoint, an item, an empty prefix (exit 4, with what to do)", async () => {
    const thread = await cli("history", "no-such-thread");
    expect(thread.code).toBe(EXIT.notFound);
    expect(thread.stderr).toContain("langgraph-redis threads");
    const checkpoint = await cli("state", fixture.chatThread, "--checkpoint", "1f000000-0000-6000-8000-000000000000");
    expect(checkpoint.code).toBe(EXIT.notFound);
    const item = await cli("store", "get", "orders.o-1", "missing");
    expect(item.code).toBe(EXIT.notFound);
    const empty = await runCli(["--url", url(), "--prefix", testPrefix("empty"), "threads"]);
    expect(empty.code).toBe(EXIT.notFound);
    expect(empty.stderr).toMatch(/no keys at all under it: pass the keyPrefix .* with --prefix/);
  });
});

describe("inspector CLI errors", () => {
  it("as a process: the bin's exit code and messages are main()'s", async () => {
    const { spawnSync } = await import("node:child_process");
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const tsx = `${root}node_modules/.bin/tsx`;
    const bin = `${root}src/inspector/bin.ts`;
    const empty = spawnSync(tsx, [bin, "--url", redisUrl(), "--prefix", testPrefix("none"), "threads"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(empty.status).toBe(EXIT.notFound);
    expect(empty.stderr).toContain("no keys at all under it");
    const usage = spawnSync(tsx, [bin, "threads", "--bogus"], { encoding: "utf8", timeout: 60_000 });
    expect(usage.status).toBe(EXIT.usage);
    expect(usage.stderr).toContain("--bogus");
  });

  it("usage errors exit 2 and say what is wrong", async () => {
    const unknown = await runCli(["frobnicate"]);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const badOption = await runCli(["threads", "--checkpoint", "x"]);
    expect(badOption.code).toBe(EXIT.usage);
    expect(badOption.stderr).toContain("threads does not take --checkpoint");
    const missing = await runCli(["--url", redisUrl(), "history"]);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toContain("missing argument <thread>");
    const noCommand = await runCli([]);
    expect(noCommand.code).toBe(EXIT.usage);
    expect(noCommand.stdout).toContain("exit codes:");
    const help = await runCli(["--help"]);
    expect(help.code).toBe(EXIT.ok);
  });

  it("a wrong URL exits 3 and names the address and how to fix it", async () => {
    const net = await import("node:net");
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise((resolve) => server.close(resolve)); // a port nobody listens on
    const run = await runCli(["--url", `redis://127.0.0.1:${port}`, "threads"]);
    expect(run.code).toBe(EXIT.connection);
    expect(run.stderr).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
    expect(run.stderr).toContain("ECONNREFUSED");
    const cluster = await runCli(["--url", `redis+cluster://127.0.0.1:${port}`, "threads"]);
    expect(cluster.code).toBe(EXIT.connection);
  });
});

describe.skipIf(!canStartServers)("inspector CLI under the Redis ACL (needs redis-server on PATH)", () => {
  it("exits 5 with the rules to add when the ACL refuses, 3 for a wrong password, 0 with inspector: true", async () => {
    const server = await startServer();
    const admin = connectTo(server.url);
    const prefix = "tenant";
    await new RedisStore({ client: admin, keyPrefix: prefix }).put(["docs"], "a", { v: 1 }, { writer: "w" });
    const setUser = (name: string, rules: string[]) =>
      admin.call("ACL", ["SETUSER", name, "reset", "on", `>${name}-pw`, ...rules]);
    await setUser("plain", aclRules({ keyPrefix: prefix }));
    await setUser("inspector", aclRules({ keyPrefix: prefix, inspector: true }));
    const as = (user: string, password: string) => server.url.replace("redis://", `redis://${user}:${password}@`);

    const refused = await runCli(["--url", as("plain", "plain-pw"), "--prefix", prefix, "--quiet", "memory"]);
    expect(refused.code).toBe(EXIT.permission);
    expect(refused.stderr).toContain("aclRules({ keyPrefix, inspector: true })");
    const wrongPassword = await runCli(["--url", as("plain", "nope"), "--prefix", prefix, "threads"]);
    expect(wrongPassword.code).toBe(EXIT.connection);
    expect(wrongPassword.stderr).toContain("refused the credentials");
    expect(wrongPassword.stderr).not.toContain("nope");
    const allowed = await runCli([
      "--url",
      as("inspector", "inspector-pw"),
      "--prefix",
      prefix,
      "--quiet",
      "memory",
      "--json",
    ]);
    expect(allowed.code, allowed.stderr).toBe(EXIT.ok);
    expect(allowed.json()).toMatchObject({ namespaces: [{ name: "docs" }] });
    const ls = await runCli([
      "--url",
      as("inspector", "inspector-pw"),
      "--prefix",
      prefix,
      "store",
      "history",
      "docs",
      "a",
      "--json",
    ]);
    expect(ls.code, ls.stderr).toBe(EXIT.ok);
  });
});
