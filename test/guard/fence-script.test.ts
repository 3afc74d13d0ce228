import { fenceCounterKey, lockKey } from "../../src/keys.js";
import { callScript, registerScripts } from "../../src/lua/index.js";
import { targets, testPrefix } from "../helpers/redis.js";

const DAY_MS = 24 * 3600 * 1000;

describe.each(targets)("guardIssueFenceToken.lua on $name", ({ connect }) => {
  async function setup(name: string) {
    const client = connect();
    registerScripts(client);
    const prefix = testPrefix();
    const keys = [lockKey(prefix, name), fenceCounterKey(prefix, name)];
    const named = { mutex: keys[0] as string, counter: keys[1] as string };
    const issue = (identifier: string) => callScript(client, "guardIssueFenceToken", named, [identifier, 5000, DAY_MS]);
    const serverMicros = async () => {
      const [seconds, micros] = (await client.call("TIME")) as [string, string];
      return Number(seconds) * 1e6 + Number(micros);
    };
    return { client, keys, issue, serverMicros };
  }

  it("issues increasing tokens to the holder, seeded from the server clock, and renews both TTLs", async () => {
    const { client, keys, issue, serverMicros } = await setup("order:1");
    const [lock = "", counter = ""] = keys;
    await client.set(lock, "me", "PX", 1000);
    const before = await serverMicros();
    const first = Number(await issue("me"));
    const after = await serverMicros();
    const second = Number(await issue("me"));

    expect(first).toBeGreaterThan(before);
    expect(first).toBeLessThanOrEqual(after + 1);
    expect(second).toBe(first + 1);
    expect(Number(await client.get(counter))).toBe(second);
    expect(await client.pttl(lock)).toBeGreaterThan(1000);
    expect(await client.pttl(lock)).toBeLessThanOrEqual(5000);
    expect(await client.pttl(counter)).toBeGreaterThan(DAY_MS - 60_000);
  });

  it("returns -1 (no token) and changes nothing when the caller no longer holds the lock", async () => {
    const { client, keys, issue } = await setup("order:2");
    const [lock = "", counter = ""] = keys;
    await client.set(lock, "someone-else", "PX", 1000);
    await client.set(counter, "41");
    expect(await issue("me")).toBeUndefined();
    expect(await client.get(counter)).toBe("41");
    expect(await client.pttl(lock)).toBeLessThanOrEqual(1000);
    await client.del(lock);
    expect(await issue("me")).toBeUndefined();
    expect(await client.get(counter)).toBe("41");
  });

  it("keeps tokens increasing when the counter was lost (expired, evicted, flushed)", async () => {
    const { client, keys, issue } = await setup("order:3");
    const [lock = "", counter = ""] = keys;
    await client.set(lock, "me", "PX", 1000);
    const before = Number(await issue("me"));
    await client.del(counter);
    const after = Number(await issue("me"));
    expect(after).toBeGreaterThan(before);
  });
});
