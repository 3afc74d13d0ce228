/** The inspector's pure pieces: fork lanes, the compressed time axis, key patterns from src/keys.ts, filters. */
import { globRegex, parseSince } from "../../src/inspector/commands/threads.js";
import { redactUrl } from "../../src/inspector/errors.js";
import { placeOnLanes } from "../../src/inspector/read/branches.js";
import { KeyPatterns } from "../../src/inspector/read/key-patterns.js";
import { MAX_GAP_PX, MIN_GAP_PX, timeAxis } from "../../src/inspector/view/axis.js";
import { esc } from "../../src/inspector/view/page.js";
import {
  fenceCounterKey,
  lockKey,
  runLeaseHoldersKey,
  runLeaseIndexKey,
  saverThreadIndexKey,
  saverThreadKeys,
  storeItemKeys,
  storeNamespaceKeys,
  threadRegistryKeys,
} from "../../src/keys.js";

const cp = (checkpointId: string, parentId: string | null, ns = "") => ({ checkpointId, parentId, ns });

describe("placeOnLanes", () => {
  it("keeps a chain on one lane and puts each fork on a new one", () => {
    const placed = placeOnLanes([cp("5", "2"), cp("4", "3"), cp("3", "2"), cp("2", "1"), cp("1", null)]);
    expect(placed.map((p) => [p.item.checkpointId, p.lane, p.forkStart])).toEqual([
      ["1", 0, false],
      ["2", 0, false],
      ["3", 0, false],
      ["4", 0, false],
      ["5", 1, true],
    ]);
  });

  it("gives a checkpoint whose parent is not listed (a --limit cut) a lane without a fork mark", () => {
    const placed = placeOnLanes([cp("9", "8"), cp("7", "6")]);
    expect(placed.map((p) => [p.lane, p.forkStart])).toEqual([
      [0, false],
      [1, false],
    ]);
  });
});

describe("timeAxis", () => {
  it("keeps time order, spaces bursts at least MIN_GAP_PX apart and caps long gaps", () => {
    const times = [0, 1, 2, 10_000, 10_001];
    const axis = timeAxis(times, 900);
    const xs = times.map((t) => axis.x(t));
    for (let i = 1; i < xs.length; i++) {
      const gap = (xs[i] as number) - (xs[i - 1] as number);
      expect(gap).toBeGreaterThanOrEqual(MIN_GAP_PX);
      expect(gap).toBeLessThanOrEqual(MAX_GAP_PX);
    }
    expect(axis.breaks).toHaveLength(1);
    expect(axis.x(5000)).toBeGreaterThan(axis.x(2));
    expect(axis.x(5000)).toBeLessThan(axis.x(10_000));
  });
});

describe("KeyPatterns", () => {
  const patterns = new KeyPatterns("app");

  it("recognises every key the library writes, with its owner", () => {
    for (const key of saverThreadKeys("app", "t:{1}").all) {
      expect(patterns.owner(key)).toEqual({ kind: "thread", threadId: "t:{1}" });
    }
    const ns = ["orders", "o:1"];
    for (const key of [
      ...Object.values(storeNamespaceKeys("app", ns)),
      ...Object.values(storeItemKeys("app", ns, "k:1")),
    ]) {
      expect(patterns.owner(key)).toEqual({ kind: "namespace", namespace: ns });
    }
    expect(patterns.owner(lockKey("app", "order:{7}"))).toEqual({ kind: "lock", name: "order:{7}" });
    expect(patterns.owner(fenceCounterKey("app", "order:7"))).toEqual({ kind: "fence", name: "order:7" });
    for (const bucket of [0, 9, 15]) {
      expect(patterns.owner(runLeaseHoldersKey("app", "g:1", bucket))).toEqual({ kind: "leases", graph: "g:1" });
      expect(patterns.leaseGraph(runLeaseIndexKey("app", "g:1", bucket))).toBe("g:1");
      expect(patterns.owner(threadRegistryKeys("app", bucket).records)).toEqual({
        kind: "index",
        name: "thread registry",
      });
    }
    expect(patterns.owner(saverThreadIndexKey("app"))).toEqual({ kind: "index", name: "thread index" });
    expect(patterns.owner("app|something-else")).toEqual({ kind: "other" });
  });

  it("builds SCAN patterns that stay inside the prefix and escape glob characters", () => {
    expect(patterns.everything).toBe("app|*");
    expect(new KeyPatterns("a*b").everything).toBe("a\\*b|*");
    expect(patterns.lock.pattern.startsWith("app|")).toBe(true);
  });
});

describe("filters and escaping", () => {
  it("matches thread ids by glob or substring", () => {
    expect(globRegex("chat-*")?.test("chat-1")).toBe(true);
    expect(globRegex("chat-*")?.test("my-chat-1")).toBe(false);
    expect(globRegex("chat")?.test("my-chat-1")).toBe(true);
    expect(globRegex("a.b")?.test("axb")).toBe(false);
  });

  it("reads --since as a duration or a date", () => {
    expect(parseSince("15m", 1_000_000)).toBe(100_000);
    expect(parseSince("2026-01-01T00:00:00Z")).toBe(Date.parse("2026-01-01T00:00:00Z"));
    expect(() => parseSince("yesterday")).toThrow(/--since takes a duration/);
  });

  it("never prints a password, and escapes HTML", () => {
    expect(redactUrl("redis://user:secret@host:6379")).toBe("redis://user:***@host:6379");
    expect(redactUrl("redis+cluster://:secret@h1:1,h2:2")).toBe("redis+cluster://:***@h1:1,h2:2");
    expect(esc(`<script>"x"&'y'</script>`)).not.toMatch(/[<>"']/);
  });
});
