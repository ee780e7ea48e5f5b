import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@pifleet/io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobVariable } from "./invocation.js";
import {
  artifactPatterns,
  asRunnerUser,
  COLLECT_PROGRAM,
  collectsArtifacts,
  commandEcho,
  expandVariables,
  gitlabCiLocalSafeName,
  KILL_PROGRAM,
  lowestFreeSlot,
  PREPARE_PROGRAM,
  runnerShortToken,
  SEND_PROGRAM,
  type ShellBuildLayout,
  STEP_PROGRAM,
  shellBuildLayout,
  shellJobFromPayload,
  stepScript,
} from "./shell-plan.js";

// The shell executor's plan. The bash programs run here for real (without the sudo in front that the
// node adds): what they do is the behaviour under test.

let dir = "";
let layout: ShellBuildLayout;
const v = (key: string, value: string, extra: Partial<JobVariable> = {}): JobVariable => ({
  key,
  value,
  file: false,
  masked: false,
  ...extra,
});
const bash = (program: string, args: string[], input?: string) =>
  run("bash", ["-c", program, "test", ...args], { allowFailure: true, ...(input === undefined ? {} : { input }) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pf-shell-plan-"));
  const projectDir = join(dir, "builds", "abc", "0", "ns", "proj");
  layout = { buildsDir: join(dir, "builds"), projectDir, tmpDir: `${projectDir}.tmp` };
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("names and places", () => {
  it("shortens runner tokens as gitlab-runner does", () => {
    expect(runnerShortToken("glrt-AbCdEfGhIjKlMnOpQrSt")).toBe("AbCdEfGhI");
    expect(runnerShortToken("glrt-t2_AbCdEfGhIjKlMnOp")).toBe("AbCdEfGhI");
    expect(runnerShortToken("GR1348941abcdefghijklmn")).toBe("abcdefghi");
    expect(runnerShortToken("plain-token-123")).toBe("plain-tok");
  });

  it("names artifact dirs as gitlab-ci-local 4.73 does (checked against its own output)", () => {
    expect(gitlabCiLocalSafeName("produce")).toBe("produce");
    expect(gitlabCiLocalSafeName("build: [amd64]")).toBe("buildOiBbamd64XQ");
    expect(gitlabCiLocalSafeName("job a.b/c")).toBe("jobIAaLgbLwc");
    const long = gitlabCiLocalSafeName("x".repeat(300));
    expect(long).toHaveLength(238);
    expect(long).toMatch(/^x+-[0-9a-f]{16}$/);
  });

  it("builds under the runner's home like gitlab-runner, and refuses paths that would leave it", () => {
    expect(shellBuildLayout({ shortToken: "AbCdEfGhI", slot: 1, projectPath: "pifleet/infra" })).toEqual({
      buildsDir: "/home/gitlab-runner/builds",
      projectDir: "/home/gitlab-runner/builds/AbCdEfGhI/1/pifleet/infra",
      tmpDir: "/home/gitlab-runner/builds/AbCdEfGhI/1/pifleet/infra.tmp",
    });
    expect(() => shellBuildLayout({ shortToken: "x", slot: 0, projectPath: "../etc" })).toThrow(/cannot make a builds dir/);
    expect(() => shellBuildLayout({ shortToken: "a/b", slot: 0, projectPath: "ns/p" })).toThrow(/cannot make a builds dir/);
  });

  it("takes the lowest free concurrent slot", () => {
    expect(lowestFreeSlot(new Set())).toBe(0);
    expect(lowestFreeSlot(new Set([0, 1, 3]))).toBe(2);
  });

  it("runs the sudo'd bash program as the runner's user, arguments after it", () => {
    expect(asRunnerUser("echo $1", "n", ["a b"])).toEqual([
      "sudo",
      "-n",
      "-u",
      "gitlab-runner",
      "-H",
      "--",
      "bash",
      "-c",
      "echo $1",
      "n",
      "a b",
    ]);
  });
});

describe("the job from its payload", () => {
  it("takes script, after_script, artifacts and dependencies", () => {
    const job = shellJobFromPayload({
      steps: [
        { name: "script", script: ["before", "main"] },
        { name: "after_script", script: ["after"] },
      ],
      artifacts: [{ paths: ["out/", "*.log"], when: "always" }],
      dependencies: ["build: [amd64]"],
    });
    expect(job).toEqual({
      script: ["before", "main"],
      afterScript: ["after"],
      artifacts: { paths: ["out/", "*.log"], when: "always" },
      dependencies: ["build: [amd64]"],
    });
    expect(shellJobFromPayload({ steps: [{ name: "script", script: ["x"] }], artifacts: [], dependencies: [] })).toEqual({
      script: ["x"],
      afterScript: [],
      artifacts: null,
      dependencies: [],
    });
  });

  it("collects artifacts by artifacts:when", () => {
    expect([collectsArtifacts("on_success", true), collectsArtifacts("on_success", false)]).toEqual([true, false]);
    expect([collectsArtifacts("on_failure", true), collectsArtifacts("on_failure", false)]).toEqual([false, true]);
    expect([collectsArtifacts("always", true), collectsArtifacts("always", false)]).toEqual([true, true]);
  });

  it("expands variables in artifact paths, drops $CI_PROJECT_DIR/, refuses paths outside the project", () => {
    const vars = [v("CI_PROJECT_DIR", "/b/p"), v("NAME", "web")];
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitLab variable reference, not a template
    const braced = "out/${NAME}-*.json";
    expect(artifactPatterns(["$CI_PROJECT_DIR/dist/", braced, "../secret", "/etc/passwd", "a/../../b"], vars, "/b/p")).toEqual({
      patterns: ["dist/", "out/web-*.json"],
      refused: ["../secret", "/etc/passwd", "a/../../b"],
    });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitLab variable reference, not a template
    expect(expandVariables("$$HOME ${A}$B $MISSING.", (k) => ({ A: "1", B: "2" })[k])).toBe("$HOME 12 .");
  });
});

describe("a step's script (run with bash here)", () => {
  it("exports variables, writes file variables 0600, echoes each command and stops at the first failure", async () => {
    await mkdir(layout.projectDir, { recursive: true });
    await mkdir(layout.tmpDir, { recursive: true, mode: 0o700 });
    const key = 'line1\nit\'s "quoted" $HOME `x`\n';
    const script = stepScript({
      variables: [v("PLAIN", "a b $c"), v("KEY_FILE", key, { file: true })],
      layout,
      commands: [
        'echo "plain=$PLAIN"',
        'cat "$KEY_FILE"',
        'stat -c %a "$KEY_FILE"',
        "pwd",
        "echo $CI_JOB_STATUS",
        "false | true",
        "echo never",
      ],
      jobStatus: "running",
    });
    const r = await run("bash", ["-c", script], { allowFailure: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      [
        '$ echo "plain=$PLAIN"',
        "plain=a b $c",
        '$ cat "$KEY_FILE"',
        `${key}$ stat -c %a "$KEY_FILE"`,
        "600",
        "$ pwd",
        layout.projectDir,
        "$ echo $CI_JOB_STATUS",
        "running",
        // pipefail: the failing left side fails the pipe, and the script stops there.
        "$ false | true",
        "",
      ].join("\n"),
    );
    expect(await readFile(join(layout.tmpDir, "KEY_FILE"), "utf8")).toBe(key);
  });

  it("echoes a multi-line command collapsed, as gitlab-runner does", () => {
    expect(commandEcho("echo one")).toBe("$ echo one");
    expect(commandEcho("if true; then\n  echo x\nfi\n")).toBe("$ if true; then # collapsed multi-line command");
  });
});

describe("the node-side programs (run with bash here)", () => {
  it("send | prepare: the commit's files, then the dependencies' artifacts over them, without reports; tmp dir 0700", async () => {
    const repo = join(dir, "repo");
    await mkdir(repo);
    await run("git", ["init", "-q", repo]);
    await writeFile(join(repo, "tracked.txt"), "from git\n");
    await writeFile(join(repo, "over.txt"), "old\n");
    await run("git", ["-C", repo, "add", "-A"]);
    await run("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "c"]);
    await writeFile(join(repo, "untracked.txt"), "not sent\n");
    const sha = (await run("git", ["-C", repo, "rev-parse", "HEAD"])).stdout.trim();
    const art = join(dir, "art", "produce");
    await mkdir(join(art, "out"), { recursive: true });
    await mkdir(join(art, ".gitlab-ci-reports", "dotenv"), { recursive: true });
    await writeFile(join(art, "out", "a.txt"), "artifact\n");
    await writeFile(join(art, "over.txt"), "new\n");
    const target = join(dir, "prepared", "proj");
    await mkdir(target, { recursive: true });
    await writeFile(join(target, "stale.txt"), "from an earlier job\n");
    const r = await run(
      "bash",
      [
        "-c",
        `bash -c "$1" send "$3" "$4" "$5" "$6" | bash -c "$2" prepare "$7" "$8"`,
        "x",
        SEND_PROGRAM,
        PREPARE_PROGRAM,
        repo,
        sha,
        art,
        join(dir, "nope"),
        target,
        `${target}.tmp`,
      ],
      { allowFailure: true },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(await readFile(join(target, "tracked.txt"), "utf8")).toBe("from git\n");
    expect(await readFile(join(target, "over.txt"), "utf8")).toBe("new\n");
    expect(await readFile(join(target, "out", "a.txt"), "utf8")).toBe("artifact\n");
    expect(existsSync(join(target, "untracked.txt"))).toBe(false);
    expect(existsSync(join(target, "stale.txt"))).toBe(false);
    expect(existsSync(join(target, ".gitlab-ci-reports"))).toBe(false);
    expect(existsSync(join(target, ".git"))).toBe(false);
    expect(((await stat(`${target}.tmp`)).mode & 0o777).toString(8)).toBe("700");
  });

  it("collect: the matches of each pattern with their paths, as a tar stream; patterns are globbed, never run", async () => {
    const project = join(dir, "collect", "proj");
    await mkdir(join(project, "out", "deep"), { recursive: true });
    await mkdir(join(project, "logs", "x"), { recursive: true });
    await writeFile(join(project, "out", "deep", "a.txt"), "a\n");
    await writeFile(join(project, "logs", "x", "one.log"), "1\n");
    await writeFile(join(project, "a b.txt"), "spaced\n");
    await writeFile(join(project, "other.txt"), "not asked for\n");
    const staging = join(dir, "collect", "staging");
    const dest = join(dir, "collect", "dest");
    await mkdir(dest);
    const patterns = ["out/", "**/*.log", "a b.txt", "missing/", "$(touch pwned)"];
    const r = await run(
      "bash",
      [
        "-c",
        `program=$1; shift; bash -c "$program" collect "$@" | tar -x -f - -C ${dest}`,
        "x",
        COLLECT_PROGRAM,
        project,
        staging,
        ...patterns,
      ],
      { allowFailure: true, cwd: project },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("WARNING: missing/: no matching files");
    expect(await readFile(join(dest, "out", "deep", "a.txt"), "utf8")).toBe("a\n");
    expect(await readFile(join(dest, "logs", "x", "one.log"), "utf8")).toBe("1\n");
    expect(await readFile(join(dest, "a b.txt"), "utf8")).toBe("spaced\n");
    expect(existsSync(join(dest, "other.txt"))).toBe(false);
    expect(existsSync(join(project, "pwned"))).toBe(false);
  });

  it("step + kill: a cancel signals the step's whole process group; a kill before the start keeps the step from starting", async () => {
    const tmp = join(dir, "kill.tmp");
    await mkdir(tmp, { mode: 0o700 });
    const child = spawn("bash", ["-c", STEP_PROGRAM, "step", tmp, "step_script"], { stdio: ["pipe", "pipe", "pipe"] });
    child.stdin.end("echo started\nsleep 300 &\nsleep 301\n");
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    for (let i = 0; i < 100 && !out.includes("started"); i++) await new Promise((r) => setTimeout(r, 50));
    const pgid = (await readFile(join(tmp, "pgid"), "utf8")).trim();
    const t = Date.now();
    expect((await bash(KILL_PROGRAM, [tmp, "5"])).code).toBe(0);
    expect(await exited).not.toBe(0);
    process.stderr.write(`[shell-plan test] step group ${pgid} stopped in ${Date.now() - t} ms\n`);
    expect((await run("pgrep", ["-g", pgid], { allowFailure: true })).stdout).toBe("");
    // The abort marker stays: a step launched after the cancel does not run its script.
    const late = await bash(STEP_PROGRAM, [tmp, "late"], "echo ran\n");
    expect(late.code).toBe(137);
    expect(late.stdout).toBe("");
  });
});
