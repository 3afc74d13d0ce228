/**
 * Checks whether the Redis behind REDIS_URL keeps acknowledged writes across a restart, and prints what it found.
 * A saver or store with `durability: { check: "refuse" }` runs the same check before its first write.
 *   npx tsx examples/durability.ts
 */
import { checkDurability, clientFromUrl, DurabilityError } from "langgraph-redis";

const client = clientFromUrl(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");

try {
  const report = await checkDurability(client, {
    check: "warn",
    require: "fsync-always",
    onWarning: (warning) => console.log(`warning (${warning.kind}) ${warning.node ?? ""}: ${warning.message}`),
  });
  for (const node of report.nodes) {
    console.log(
      node.readable
        ? `${node.node}: appendonly ${node.appendonly ? "yes" : "no"}, appendfsync ${node.appendfsync}, save "${node.save}"`
        : `${node.node}: settings not readable (${node.error})`,
    );
  }
  console.log(report.ok ? "acknowledged writes survive a restart" : "acknowledged writes could be lost on a restart");

  // The strict form: throws before anything is written when the server could lose acknowledged writes.
  await checkDurability(client, { check: "refuse" }).catch((error: unknown) => {
    if (!(error instanceof DurabilityError)) throw error;
    console.log(`refused: ${error.message}`);
  });
} finally {
  client.disconnect();
}
