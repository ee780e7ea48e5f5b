import type { PathSegment } from "@pifleet/fleet";

/** A finding before it is given a file position. */
export interface Problem {
  /** Where in the document: [jobName, keyword, ...]. */
  path: PathSegment[];
  message: string;
  /** Report at the key itself (unknown keys), not at its value. */
  at?: "key";
  /** Which check found it: schema, semantic or fleet. */
  check: "schema" | "semantic" | "fleet";
}

/** GitLab's way of naming a place in the config: jobs:build:needs. */
export function gitlabPath(path: readonly PathSegment[], isJob: boolean): string {
  const parts = path.map(String);
  return isJob ? ["jobs", ...parts].join(":") : parts.join(":");
}
