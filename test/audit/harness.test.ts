import pg from "pg";
import { describe, expect, inject, it } from "vitest";

describe("PostgreSQL test server", () => {
  it("answers on the URL the global setup provides, over loopback", async () => {
    const client = new pg.Client({ connectionString: inject("postgresUrl") });
    await client.connect();
    try {
      const { rows } = await client.query<{ server_version: string }>("SHOW server_version");
      expect(Number.parseInt(rows[0]?.server_version ?? "0", 10)).toBeGreaterThanOrEqual(13);
    } finally {
      await client.end();
    }
  });
});
