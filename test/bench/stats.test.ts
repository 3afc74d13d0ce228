import fc from "fast-check";
import { closedLoop } from "../../bench/concurrency.js";
import { renderMarkdown } from "../../bench/report.js";
import type { BenchResults } from "../../bench/results.js";
import { percentile, ratio, summarize } from "../../bench/stats.js";
import { evaluateTargets, TARGETS } from "../../bench/targets.js";

describe("bench statistics", () => {
  it("takes nearest-rank percentiles: always an observed sample", () => {
    const samples = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(samples, 50)).toBe(500);
    expect(percentile(samples, 99)).toBe(990);
    expect(percentile([7], 99)).toBe(7);
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: 0, max: 1e6 }), { minLength: 1 }), (values) => {
        const s = summarize(values);
        expect(values).toContain(s.p50Ms);
        expect(values).toContain(s.p99Ms);
        expect(s.p50Ms).toBeLessThanOrEqual(s.p99Ms);
        expect(s.minMs).toBeLessThanOrEqual(s.p50Ms);
        expect(s.p99Ms).toBeLessThanOrEqual(s.maxMs);
      }),
    );
  });

  it("summarizes an empty run as NaN rather than inventing numbers", () => {
    expect(Number.isNaN(summarize([]).p50Ms)).toBe(true);
    expect(Number.isNaN(ratio(1, 0))).toBe(true);
    expect(ratio(3, 2)).toBe(1.5);
  });
});

describe("bench targets", () => {
  it("reports met, missed, and not measured, never throwing", () => {
    const metrics = new Map<string, number>([
      ["saver.put.floorRatioP50", 1.2],
      ["saver.getTuple.floorRatioP50", 1.8],
      ["concurrency.5000.putsPerSec", 25_000],
      ["concurrency.5000.p99AtTargetRateMs", 5],
    ]);
    const results = new Map(evaluateTargets(metrics).map((t) => [t.id, t]));
    expect(results.get("put-floor")).toMatchObject({ met: true, measured: "1.20x" });
    expect(results.get("getTuple-floor")).toMatchObject({ met: false, measured: "1.80x" });
    expect(results.get("concurrency-throughput")).toMatchObject({ met: true, measured: "25,000/s" });
    // "under 5 ms" is strict.
    expect(results.get("concurrency-p99")).toMatchObject({ met: false });
    expect(results.get("graph-overhead")).toMatchObject({ met: null, measured: null });
    expect(results.size).toBe(TARGETS.length);
  });
});

describe("bench report", () => {
  it("renders every table and target as Markdown", () => {
    const results: BenchResults = {
      run: {
        startedAt: "2026-01-01T00:00:00.000Z",
        durationMs: 1000,
        node: "20",
        platform: "linux-x64",
        cpus: 2,
        cpuModel: "cpu",
        loadAvgStart: [1, 1, 1],
        loadAvgEnd: [1, 1, 1],
        redisVersion: "7.0.15",
        redisSource: "throwaway local redis-server",
        packageVersion: "0.1.0",
        scale: 1,
      },
      sections: [{ id: "store", title: "Store", status: "failed", durationMs: 1, detail: "Error: boom" }],
      tables: [
        {
          id: "t",
          title: "A table",
          columns: [
            { key: "op", label: "Operation", kind: "text" },
            { key: "p50", label: "p50 (ms)", kind: "ms" },
            { key: "r", label: "Ratio", kind: "ratio" },
          ],
          rows: [{ op: "a|b", p50: 0.12345, r: 1.5 }],
          notes: ["a note"],
        },
      ],
      metrics: {},
      targets: evaluateTargets(new Map([["saver.put.floorRatioP50", 2]])),
    };
    const md = renderMarkdown(results);
    expect(md).toContain("## A table");
    expect(md).toContain("| a\\|b      |    0.123 | 1.50x |");
    expect(md).toContain("| --------- | -------: | ----: |");
    expect(md).toContain("- a note");
    expect(md).toMatch(/\|\s+2\.00x \| MISSED\s+\|/);
    expect(md).toContain("Store: failed (Error: boom)");
  });
});

describe("bench load driver", () => {
  it("runs each thread's operations one after another and stops at maxOps", async () => {
    const inFlight = new Map<number, number>();
    let overlap = false;
    const result = await closedLoop(
      8,
      60_000,
      async (thread) => {
        const now = (inFlight.get(thread) ?? 0) + 1;
        if (now > 1) overlap = true;
        inFlight.set(thread, now);
        await new Promise((r) => setImmediate(r));
        inFlight.set(thread, now - 1);
      },
      200,
    );
    expect(overlap).toBe(false);
    expect(result.ops).toBe(200);
    expect(result.threads).toBe(8);
  });
});
