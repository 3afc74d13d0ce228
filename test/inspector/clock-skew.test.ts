/**
 * `history` points out checkpoints made before their parent: what a process whose clock was behind stored before
 * RedisSaver.put refused such checkpoints (ClockSkewError). The put check is switched off here to write one, as an
 * earlier release (or another tool writing the same keys) did.
 */
import { RedisSaver } from "../../src/index.js";
import { EXIT } from "../../src/inspector/errors.js";
import { newRedis, redisUrl, testPrefix } from "../helpers/redis.js";
import { loopMetadata, makeCheckpoint } from "../saver/saver-helpers.js";
import { runCli } from "./run-cli.js";

vi.mock("../../src/saver/clock-order.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../src/saver/clock-order.js")>()),
  requireClockOrder: () => {},
}));

/** A version 6 UUID made at Unix time `ms`, as LangGraph makes checkpoint ids. */
function idAt(ms: number): string {
  const hex = ((BigInt(ms) + 12_219_292_800_000n) * 10_000n).toString(16).padStart(15, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-6${hex.slice(12, 15)}-8000-000000000000`;
}

describe("inspector history: checkpoints made before their parent", () => {
  it("marks them in the table and the JSON, with how far behind they were made", async () => {
    const prefix = testPrefix("insp-skew");
    const saver = new RedisSaver({ client: newRedis(), keyPrefix: prefix });
    const threadId = testPrefix("thread");
    const now = Date.now();
    const [first, second, early] = [idAt(now - 100), idAt(now), idAt(now - 2500)];
    const config = (parent?: string) => ({
      configurable: { thread_id: threadId, checkpoint_ns: "", ...(parent ? { checkpoint_id: parent } : {}) },
    });
    await saver.put(config(), makeCheckpoint({ n: 1 }, { n: 1 }, first), loopMetadata(0), { n: 1 });
    await saver.put(config(first), makeCheckpoint({ n: 2 }, { n: 2 }, second), loopMetadata(1), { n: 2 });
    await saver.put(config(second), makeCheckpoint({ n: 3 }, { n: 3 }, early), loopMetadata(2), { n: 3 });
    // What every reader takes for the latest: the newest id, not the checkpoint written last.
    expect((await saver.getTuple(config()))?.checkpoint.id).toBe(second);

    const cli = (...argv: string[]) => runCli(["--url", redisUrl(), "--prefix", prefix, "--quiet", ...argv]);
    const run = await cli("history", threadId, "--json");
    expect(run.code, run.stderr).toBe(EXIT.ok);
    const { checkpoints } = run.json<{ checkpoints: { checkpointId: string; beforeParentMs?: number }[] }>();
    expect(checkpoints.map((c) => [c.checkpointId, c.beforeParentMs])).toEqual([
      [early, 2500],
      [first, undefined],
      [second, undefined],
    ]);
    const text = await cli("history", threadId);
    expect(text.stdout).toContain(`1 checkpoint made before its parent by ${early} (2500 ms)`);

    // The same thread without the early checkpoint: nothing to point out.
    const orderly = testPrefix("thread");
    const at = (parent?: string) => ({
      configurable: { thread_id: orderly, checkpoint_ns: "", ...(parent ? { checkpoint_id: parent } : {}) },
    });
    await saver.put(at(), makeCheckpoint({ n: 1 }, { n: 1 }, first), loopMetadata(0), { n: 1 });
    await saver.put(at(first), makeCheckpoint({ n: 2 }, { n: 2 }, second), loopMetadata(1), { n: 2 });
    const inOrder = await cli("history", orderly);
    expect(inOrder.code, inOrder.stderr).toBe(EXIT.ok);
    expect(inOrder.stdout).toMatch(/\n2 checkpoints\n$/);
    expect(inOrder.stdout).not.toContain("made before");
  });
});
