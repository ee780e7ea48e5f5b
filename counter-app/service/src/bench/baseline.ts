import { createServer } from "node:http";
import { createClient } from "redis";

/**
 * Benchmark reference (a): the least a counter can do — node:http and one
 * INCR per request, with the same redis client as the app. Prints its port.
 */
const client = createClient({ url: process.env.REDIS_URL });
await client.connect();
const server = createServer((_req, res) => {
  client.incr("bench:baseline").then(
    (n) => {
      res.writeHead(200, { "content-type": "application/json" }).end(`{"views":${n}}`);
    },
    () => {
      res.writeHead(503).end();
    },
  );
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});
process.once("SIGTERM", () => {
  server.close(() => void client.close().then(() => process.exit(0)));
  server.closeIdleConnections();
});
