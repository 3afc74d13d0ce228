/** "host1:port1,host2:port2" (how the harness and the local servers list a cluster's nodes) as ioredis node list. */
export function parseNodes(list: string): { host: string; port: number }[] {
  return list.split(",").map((hostPort) => {
    const [host = "127.0.0.1", port = "6379"] = hostPort.trim().split(":");
    return { host, port: Number(port) };
  });
}
