import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throwaway Debian redis-server on a loopback port, for tests and the benchmark. */
export interface LocalRedis {
  port: number;
  url: string;
  dir: string;
  /** Stops the server (SIGTERM, then waits for exit); start() can bring it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops and removes the data directory. */
  dispose(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface LocalRedisOptions {
  /** Extra redis-server options, e.g. ["--replicaof", "127.0.0.1", "6379"]. */
  args?: string[];
  /** Run a sentinel with this config (written to the data directory: a sentinel rewrites its file). */
  sentinelConfig?: string;
}

export async function startLocalRedis(binary = "redis-server", options: LocalRedisOptions = {}): Promise<LocalRedis> {
  const dir = await mkdtemp(join(tmpdir(), "pifleet-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const common = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir];
  let argv = [...common, "--save", "", "--appendonly", "no", ...(options.args ?? [])];
  let readyLine = "Ready to accept connections";
  if (options.sentinelConfig !== undefined) {
    const file = join(dir, "sentinel.conf");
    await writeFile(file, options.sentinelConfig);
    argv = [file, "--sentinel", ...common];
    readyLine = "Sentinel ID is";
  }

  const start = async () => {
    const proc = spawn(binary, argv, {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${port}: ${out}`)), 10_000);
      proc.once("error", (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${binary}: ${err.message} (install Debian's redis-server)`));
      });
      proc.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes(readyLine)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  };
  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once("exit", () => resolve());
      proc.kill("SIGTERM");
    });
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    start,
    stop,
    dispose: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
