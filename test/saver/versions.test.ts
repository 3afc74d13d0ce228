/**
 * Channel versions: always above the current one, short (nine decimals at most), and distinct across forks.
 */
import { nextChannelVersion } from "../../src/saver/versions.js";

describe("nextChannelVersion", () => {
  it("is the next integer plus a fraction of at most nine decimals", () => {
    for (const current of [undefined, 0, 1, 2.5, 41.999999999, "7.123", 8_000_000]) {
      const next = nextChannelVersion(current);
      const base = current === undefined ? 0 : Math.floor(Number(current));
      expect(next).toBeGreaterThanOrEqual(base + 1);
      expect(next).toBeLessThan(base + 2);
      expect(String(next)).toMatch(/^\d+(\.\d{1,9})?$/);
    }
  });

  it("gives forks from the same version different versions", () => {
    const versions = new Set(Array.from({ length: 100 }, () => nextChannelVersion(3.25)));
    expect(versions.size).toBe(100);
  });

  it("still grows where the integer part is too large for nine exact decimals", () => {
    const current = 2 ** 50;
    expect(nextChannelVersion(current)).toBeGreaterThan(current);
  });
});
