/**
 * What riding out an outage costs a write: RedisSaver put with the `offline` option while Redis is unreachable (the
 * record is appended to the journal and fsynced) against the same put online, interleaved call by call (so the
 * "floor" here is the online put). One caller at a time pays one fsync per put; concurrent callers share one fsync
 * per batch (group commit), measured as time per put with 16 callers at once.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisSaver } from "../src/index.js";
import type { BenchContext } from "./context.js";
import { CheckpointSequence, putPayloadBytes, typicalStep } from "./payloads.js";
import { putStep, versionsOf } from "./saver.js";
import { floorRatio, summarize } from "./stats.js";
import { nowMs, timeInterleaved } from "./timing.js";

const CONCURRENT = 16;

export async function offlineSection(ctx: BenchContext): Promise<void> {
  const table = ctx.recorder.table("offline", "Offline journal: put while Redis is unreachable against put online", [
    { key: "op", label: "Operation", kind: "text" },
    { key: "bytes", label: "Bytes", kind: "bytes" },
    { key: "p50", label: "p50 (ms)", kind: "ms" },
    { key: "p99", label: "p99 (ms)", kind: "ms" },
    { key: "onlineP50", label: "Online p50 (ms)", kind: "ms" },
    { key: "onlineP99", label: "Online p99 (ms)", kind: "ms" },
    { key: "ratioP50", label: "p50 / online", kind: "ratio" },
  ]);
  const dir = mkdtempSync(join(tmpdir(), "lgr-bench-journal-"));
  // A client that is closed: every put finds Redis unreachable at once and goes to the journal.
  const gone = ctx.newClient();
  gone.disconnect();
  const offline = new RedisSaver({
    client: gone,
    keyPrefix: ctx.keyPrefix("offline-journal"),
    offline: { journalDir: dir, maxBytes: 2 ** 32, probeIntervalMs: 60_000 },
  });
  const online = new RedisSaver({ client: ctx.client, keyPrefix: ctx.keyPrefix("offline-online") });
  try {
    const iterations = ctx.iterations(1000);
    const offlineThread = `offline-${randomUUID()}`;
    const onlineThread = `online-${randomUUID()}`;
    const offlineSequence = new CheckpointSequence(versionsOf(offline));
    const onlineSequence = new CheckpointSequence(versionsOf(online));
    const probe = offlineSequence.next(typicalStep(0));
    await putStep(offline, offlineThread, probe);
    await putStep(online, onlineThread, onlineSequence.next(typicalStep(0)));
    const bytes = await putPayloadBytes(probe);

    ctx.progress.step(`offline put: ${iterations} calls interleaved with online puts`);
    const paired = await timeInterleaved(
      (i) => putStep(offline, offlineThread, offlineSequence.next(typicalStep(i + 1))),
      (i) => putStep(online, onlineThread, onlineSequence.next(typicalStep(i + 1))),
      { iterations, maxMs: ctx.durationMs(20_000) },
    );
    const subject = summarize(paired.subject);
    const floor = summarize(paired.floor);
    const ratios = floorRatio(subject, floor);
    table.rows.push({
      op: "RedisSaver put (typical step), offline, one caller",
      bytes,
      p50: subject.p50Ms,
      p99: subject.p99Ms,
      onlineP50: floor.p50Ms,
      onlineP99: floor.p99Ms,
      ratioP50: ratios.p50,
    });
    ctx.recorder.metric("offline.put.p50Ms", subject.p50Ms);
    ctx.recorder.metric("offline.put.onlineRatioP50", ratios.p50);

    // 16 callers at once, each on its own thread: time per put of a whole round, offline and online alike.
    const rounds = ctx.iterations(200, 20);
    const sequences = (saver: RedisSaver) =>
      Array.from({ length: CONCURRENT }, () => ({
        thread: randomUUID(),
        sequence: new CheckpointSequence(versionsOf(saver)),
      }));
    const offlineCallers = sequences(offline);
    const onlineCallers = sequences(online);
    const round = (saver: RedisSaver, callers: typeof offlineCallers, step: number) =>
      Promise.all(callers.map((c) => putStep(saver, c.thread, c.sequence.next(typicalStep(step)))));
    ctx.progress.step(`offline put: ${rounds} rounds of ${CONCURRENT} concurrent puts, interleaved with online rounds`);
    const perPut: { offline: number[]; online: number[] } = { offline: [], online: [] };
    for (let step = 0; step < rounds; step++) {
      for (const [name, saver, callers] of [
        ["offline", offline, offlineCallers],
        ["online", online, onlineCallers],
      ] as const) {
        const start = nowMs();
        await round(saver, callers, step);
        perPut[name].push((nowMs() - start) / CONCURRENT);
      }
    }
    const concurrent = summarize(perPut.offline);
    const concurrentOnline = summarize(perPut.online);
    const concurrentRatio = floorRatio(concurrent, concurrentOnline);
    table.rows.push({
      op: `RedisSaver put (typical step), offline, ${CONCURRENT} callers (time per put)`,
      bytes,
      p50: concurrent.p50Ms,
      p99: concurrent.p99Ms,
      onlineP50: concurrentOnline.p50Ms,
      onlineP99: concurrentOnline.p99Ms,
      ratioP50: concurrentRatio.p50,
    });
    ctx.recorder.metric("offline.putConcurrent.p50Ms", concurrent.p50Ms);
    ctx.recorder.metric("offline.putConcurrent.onlineRatioP50", concurrentRatio.p50);
    table.notes.push(
      "Offline: the client is closed, so each put is serialised and appended to the journal, and returns once the " +
        "record is fsynced (docs/offline.md). One caller pays one fsync per put, so the ratio depends on the disk; " +
        `with ${CONCURRENT} callers the appends that arrive during a sync share the next one (group commit).`,
    );
  } finally {
    await offline.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
