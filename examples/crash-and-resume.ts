// A run is killed (SIGKILL) in the middle of a slow node; a recoverer finds it and resumes it from its last
// checkpoint: the finished step does not run again. Run: REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/crash-and-resume.ts
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { clientFromUrl, findCrashedRuns, RedisSaver, resumeCrashedRuns, withRunLease } from "langgraph-redis";

const role = process.argv[2] === "child" ? "child" : "parent";
const client = clientFromUrl(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const saver = new RedisSaver({ client, keyPrefix: "example" });
const State = Annotation.Root({ done: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }) });
const step =
  (name: string, ms = 0) =>
  async () => {
    console.log(`  ${role} (pid ${process.pid}) runs ${name}`);
    await sleep(ms);
    return { done: [name] };
  };
const graph = new StateGraph(State)
  .addNode("fetch", step("fetch"))
  .addNode("analyse", step("analyse", role === "child" ? 60_000 : 10)) // the child dies in here
  .addNode("report", step("report"))
  .addEdge(START, "fetch")
  .addEdge("fetch", "analyse")
  .addEdge("analyse", "report")
  .addEdge("report", END)
  .compile({ checkpointer: saver, name: "crash-example" });
const app = withRunLease(graph, { client, keyPrefix: "example", leaseMs: 1_000 });

if (role === "child") {
  await app.invoke({}, { configurable: { thread_id: process.argv[3] } });
} else {
  const threadId = `report-${process.pid}`;
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1] ?? "", "child", threadId], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  child.stdout.pipe(process.stdout);
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d) => String(d).includes("analyse") && resolve());
    child.once("exit", (code) => reject(new Error(`the child exited (${code}) before "analyse"`)));
  });
  await sleep(500); // let the checkpoint after "fetch" land (it is written while "analyse" runs)
  child.kill("SIGKILL");
  console.log(`killed the child (pid ${child.pid}) with SIGKILL while it ran "analyse"`);

  // Its lease expires 1 s after its last heartbeat; then the run shows up as crashed.
  let run = (await findCrashedRuns(app)).find((r) => r.threadId === threadId);
  while (!run) {
    await sleep(200);
    run = (await findCrashedRuns(app)).find((r) => r.threadId === threadId);
  }
  console.log(`crashed: ${run.threadId}, held by ${run.heldBy}, to run again: ${run.pendingNodes.join(", ")}`);

  const report = await resumeCrashedRuns(app);
  const state = await app.getState({ configurable: { thread_id: threadId } });
  console.log(`resumed ${report.resumed} run(s); the thread now holds: ${state.values.done.join(" -> ")}`);
  await saver.deleteThread(threadId);
  await client.quit();
}
