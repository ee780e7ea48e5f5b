import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "@pifleet/io";
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

/** The record in dir, or undefined when no sim was started there; an unreadable record is an error, not "no sim". */
export async function readState(dir: string): Promise<SimRecord | undefined> {
  const text = await readFile(simFiles(dir).state, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  return text === undefined ? undefined : (JSON.parse(text) as SimRecord);
}

export async function writeState(state: SimRecord): Promise<void> {
  await writeFileAtomic(state.layout.files.state, `${JSON.stringify(state, null, 2)}\n`);
}
