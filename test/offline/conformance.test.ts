/**
 * LangGraph's checkpointer conformance suite against a RedisSaver with the `offline` option while Redis answers:
 * the option must not change anything a saver is expected to do (each checkpointer has a journal of its own).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newRedis } from "../helpers/redis.js";
import { runConformanceSuite } from "../saver/conformance-helpers.js";

const root = mkdtempSync(join(tmpdir(), "lgr-conformance-journal-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;

runConformanceSuite("RedisSaver with offline (standalone, online)", newRedis, () => ({
  offline: { journalDir: join(root, String(++count)) },
}));
