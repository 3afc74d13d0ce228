/**
 * decodeWriteList (src/saver/decode.ts): most writes decode synchronously, the rest (large compressed values, values
 * that need the serializer) are awaited together. Results keep the writes' order whichever way each went, and a
 * write that fails at once leaves no write still decoding to reject unobserved.
 */
import { deflateRawSync } from "node:zlib";
import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import { CorruptCheckpointError } from "../../src/errors.js";
import type { SaverContext } from "../../src/saver/context.js";
import { decodeWriteList } from "../../src/saver/decode.js";
import { packWrite } from "../../src/saver/write-frame.js";

const serde = new JsonPlusSerializer();
const context = { serde, maxValueBytes: 64 * 1024 * 1024 } as unknown as SaverContext;
const source = { key: "k:writes", what: () => "a test write" };

async function write(idx: number, value: unknown, deflate = false): Promise<Buffer> {
  const [type, bytes] = await serde.dumpsTyped(value);
  const stored = deflate ? deflateRawSync(bytes) : bytes;
  return packWrite("task", "channel", type, stored, "~__pregel_pull, node", idx, deflate);
}

describe("decodeWriteList", () => {
  it("decodes synchronous, compressed and serializer-bound writes in their order", async () => {
    // Over 4 KiB deflated: inflated off the calling thread, then decoded.
    const large = Array.from({ length: 3000 }, (_, i) => `${i}:${(i * 7919) % 104729}`);
    const values = [
      await write(0, { a: 1 }),
      await write(1, large, true),
      await write(2, new Set([1, 2])),
      await write(3, "text", true),
    ];
    expect(values[1]?.length).toBeGreaterThan(4096);
    const decoded = await decodeWriteList(context, source, values);
    expect(decoded.map(({ write }) => write[2])).toEqual([{ a: 1 }, large, new Set([1, 2]), "text"]);
    expect(decoded.map(({ write }) => write[0])).toEqual(["task", "task", "task", "task"]);
  });

  it("fails with the first write that cannot be decoded, leaving no rejection unobserved", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const bad = packWrite("task", "channel", "json", Buffer.from("{not json"), "", 1, false);
      // Bytes that are no raw deflate, long enough to be inflated asynchronously: that one rejects later.
      const badDeflated = packWrite("task", "channel", "json", Buffer.alloc(5000, 0xff), "", 0, true);
      const error = await decodeWriteList(context, source, [badDeflated, bad]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptCheckpointError);
      expect((error as CorruptCheckpointError).key).toBe("k:writes");
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
