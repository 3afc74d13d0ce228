/** The module `resume --graph` and `runs --graph` load in the tests: a factory for the crashed run's leased graph. */
import type { RedisClient } from "../../src/client.js";
import { withRunLease } from "../../src/recovery/with-run-lease.js";
import { RedisSaver } from "../../src/saver/redis-saver.js";
import { testGraph } from "../recovery/helpers.js";

export default function leasedGraph({ client, keyPrefix }: { client: RedisClient; keyPrefix: string }) {
  return withRunLease(testGraph({ checkpointer: new RedisSaver({ client, keyPrefix }) }), {
    client,
    keyPrefix,
    name: "crashy",
    leaseMs: 5000,
    owner: "inspector-test",
  });
}
