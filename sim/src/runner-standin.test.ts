import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { standinFiles } from "./runner-standin.js";

const unit = readFileSync(new URL("../runner-standin/gitlab-runner.service", import.meta.url), "utf8");
const script = readFileSync(new URL("../runner-standin/gitlab-runner-standin.py", import.meta.url), "utf8");

describe("the runner stand-in's files on a node", () => {
  const files = standinFiles(script, unit, "glpat-jobs");
  const at = (path: string) => files.find((f) => f.path === path);

  it("installs the script where the shipped unit starts it", () => {
    const execStart = /^ExecStart=\S+ (\S+)$/m.exec(unit)?.[1];
    expect(execStart).toBeDefined();
    expect(at(execStart ?? "")?.content).toBe(script);
  });

  it("replaces gitlab-runner.service and keeps the jobs token readable by root only, where the script reads it", () => {
    expect(at("/etc/systemd/system/gitlab-runner.service")).toMatchObject({ content: unit, mode: "0644" });
    const tokenPath = /^JOBS_TOKEN_FILE = "(.+)"$/m.exec(script)?.[1] ?? "";
    expect(at(tokenPath)).toEqual({ path: tokenPath, content: "glpat-jobs", mode: "0600" });
  });
});
