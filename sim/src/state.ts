import { readFile, rename, writeFile } from "node:fs/promises";
import type { SimLayout } from "./layout.js";
import { simFiles } from "./layout.js";

/** What `sim up` recorded in DIR/state.json, so status/fault/down need no options (the emulator's own state is gitlab/state.ts's SimState). */
export interface SimRecord {
  version: 1;
  layout: SimLayout;
  image: string;
  /** apt proxy URL the nodes use. */
  aptProxy: string;
  gitlab?: { url: string; projectId: number };
  /** sim/runner-standin runs as gitlab-runner.service on every node (only with the emulator). */
  runnerStandin?: boolean;
  createdAt: string;
}

export async function readState(dir: string): Promise<SimRecord | undefined> {
  const text = await readFile(simFiles(dir).state, "utf8").catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as SimRecord);
}

/** Atomic write (temp file, then rename) so a reader never sees half a state file. */
export async function writeFileAtomic(path: string, content: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, path);
}

export async function writeState(state: SimRecord): Promise<void> {
  await writeFileAtomic(state.layout.files.state, `${JSON.stringify(state, null, 2)}\n`);
}
