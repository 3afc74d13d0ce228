/**
 * Which failures mean a command did not run and is sent again (src/slot-migration.ts): the replies a slot migration
 * gives a Cluster client, ioredis giving up on them, and NOSCRIPT; nothing else, and MOVED never for a standalone
 * client. The real thing (slots moved under load on a cluster of its own) is test/faults/slot-migration.test.ts.
 */
import { Cluster, Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { isSlotMoving, isUnrun, sendAgain } from "../../src/slot-migration.js";

const cluster = new Cluster([{ host: "127.0.0.1", port: 1 }], { lazyConnect: true });
const standalone = new Redis({ lazyConnect: true });
afterAll(() => {
  cluster.disconnect();
  standalone.disconnect();
});

const replyError = (message: string) => Object.assign(new Error(message), { name: "ReplyError" });

describe("isUnrun", () => {
  it("takes the replies of a slot being moved from a Cluster client", () => {
    for (const message of [
      "TRYAGAIN Multiple keys request during rehashing of slot",
      "ASK 8943 127.0.0.1:30166",
      "MOVED 8943 127.0.0.1:31681",
      "Too many Cluster redirections. Last error: ReplyError: TRYAGAIN Multiple keys request during rehashing of slot",
      "Too many Cluster redirections. Last error: ReplyError: ASK 8943 127.0.0.1:30166",
    ]) {
      expect(isSlotMoving(replyError(message), cluster), message).toBe(true);
      expect(isUnrun(replyError(message), cluster), message).toBe(true);
    }
  });

  it("takes NOSCRIPT from any client, and nothing that may have run", () => {
    expect(isUnrun(replyError("NOSCRIPT No matching script. Please use EVAL."), standalone)).toBe(true);
    expect(isUnrun(replyError("NOSCRIPT No matching script. Please use EVAL."), cluster)).toBe(true);
    for (const message of [
      "Connection is closed.",
      "Too many Cluster redirections. Last error: Error: Connection is closed.",
      "CROSSSLOT Keys in request don't hash to the same slot",
      "CLUSTERDOWN The cluster is down",
      "ERR user_script:1: boom",
      "OOM command not allowed when used memory > 'maxmemory'.",
    ]) {
      expect(isUnrun(replyError(message), cluster), message).toBe(false);
    }
  });

  it("leaves MOVED and ASK of a standalone client alone: it is connected to a cluster node, and always will be", () => {
    expect(isUnrun(replyError("MOVED 8943 127.0.0.1:31681"), standalone)).toBe(false);
    expect(isUnrun(replyError("TRYAGAIN Multiple keys request during rehashing of slot"), standalone)).toBe(false);
  });
});

describe("sendAgain", () => {
  it("sends again while the command is turned away, and returns its reply", async () => {
    let tries = 0;
    const reply = await sendAgain(cluster, replyError("TRYAGAIN Multiple keys request during rehashing"), async () => {
      tries++;
      if (tries < 4) throw replyError(tries % 2 ? "ASK 1 127.0.0.1:2" : "NOSCRIPT No matching script");
      return "OK";
    });
    expect(reply).toBe("OK");
    expect(tries).toBe(4);
  });

  it("throws an error of any other kind as it is, without sending again", async () => {
    const connection = replyError("Connection is closed.");
    let tries = 0;
    const send = async () => {
      tries++;
      return "OK";
    };
    await expect(sendAgain(cluster, connection, send)).rejects.toBe(connection);
    expect(tries).toBe(0);
    const later = replyError("ERR user_script:1: boom");
    await expect(
      sendAgain(cluster, replyError("TRYAGAIN Multiple keys request during rehashing"), async () => {
        tries++;
        throw later;
      }),
    ).rejects.toBe(later);
    expect(tries).toBe(1);
  });
});
