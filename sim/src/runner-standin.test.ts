import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RUNNER_HOME, RUNNER_USER } from "./ci-runner/shell-plan.js";
import { RUNNER_USER_SCRIPT, standinFiles } from "./runner-standin.js";

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

describe("the runner's user", () => {
  it("is made as gitlab-runner's postinst makes it, only when missing, with the home the shell executor builds in", () => {
    expect(RUNNER_USER_SCRIPT).toBe(
      "id -u gitlab-runner >/dev/null 2>&1 || useradd --comment 'GitLab Runner' --create-home gitlab-runner --shell /bin/bash",
    );
    // useradd's default HOME on Debian is /home (/etc/default/useradd).
    expect(RUNNER_HOME).toBe(`/home/${RUNNER_USER}`);
  });
});
