import { constants } from "node:fs";
import { access, readFile } from "node:fs/promises";
import { connect } from "node:net";
import { delimiter, join } from "node:path";
import { createInterface } from "node:readline";
import { type KnownKey, run } from "@pifleet/io";
import { parseKeyscan } from "./host-keys.js";
import type { Tool } from "./prerequisites.js";

/** The side effects of bootstrap's checks: PATH lookups, a file check, TCP connects, ssh-keyscan, a question. */

async function onPath(program: string, path: string): Promise<boolean> {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    try {
      await access(join(dir, program), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

export async function missingTools(tools: readonly Tool[], path = process.env.PATH ?? ""): Promise<Tool[]> {
  const found = await Promise.all(tools.map((t) => onPath(t.program, path)));
  return tools.filter((_, i) => !found[i]);
}

/** Why a file cannot be read, or undefined when it can. */
export async function unreadable(file: string): Promise<string | undefined> {
  try {
    await readFile(file);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

export interface Reach {
  reachable: boolean;
  ms: number;
  error?: string;
}

/** Whether address:port accepts a TCP connection within timeoutMs (the Pi is up and sshd listens). */
export function tcpReach(address: string, port: number, timeoutMs = 5_000): Promise<Reach> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: timeoutMs });
    const end = (error?: string) => {
      socket.destroy();
      resolve({ reachable: error === undefined, ms: Date.now() - started, ...(error ? { error } : {}) });
    };
    socket.once("connect", () => end());
    socket.once("timeout", () => end(`no answer in ${timeoutMs / 1000} s`));
    socket.once("error", (err: NodeJS.ErrnoException) => end(err.code ?? err.message));
  });
}

/** The host keys the node's sshd offers, every type (what OpenSSH would be shown on first contact). */
export async function scanHostKeys(address: string, port: number): Promise<KnownKey[]> {
  // `--`: an address is never an option, whatever the fleet file holds.
  const r = await run("ssh-keyscan", ["-T", "10", "-p", String(port), "--", address], { allowFailure: true, timeoutMs: 60_000 });
  return parseKeyscan(r.stdout);
}

/** Asks on stderr, reads one line from stdin; yes only for y/yes. End of input (no terminal, nothing piped) is no. */
export async function askYes(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: Boolean(process.stdin.isTTY) });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.once("line", resolve);
      rl.once("close", () => resolve(""));
      rl.setPrompt(question);
      rl.prompt();
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
