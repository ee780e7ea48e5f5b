import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ExecResult, run } from "@pifleet/io";
import type { Target } from "./target.js";

/**
 * Real git against the target's smart HTTP, as a person would use it: the token is handed over by a
 * credential helper reading it from the environment (never in argv or a URL), with no prompt, no
 * user or system config of this machine.
 */
export class GitClient {
  readonly home = mkdtempSync(join(tmpdir(), "pifleet-git-client-"));

  constructor(
    private readonly target: Target,
    readonly projectPath: string,
  ) {}

  /** http://127.0.0.1:PORT/pifleet/infra.git */
  get remote(): string {
    return `${this.target.url}/${this.projectPath}.git`;
  }

  env(token: string | null, username = "oauth2"): NodeJS.ProcessEnv {
    const helper =
      token === null
        ? []
        : ["credential.helper", `!f() { test "$1" = get && printf 'username=%s\\npassword=%s\\n' "$GIT_USER" "$GIT_TOKEN"; }; f`];
    return {
      PATH: process.env.PATH,
      HOME: this.home,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_TERMINAL_PROMPT: "0",
      GIT_USER: username,
      GIT_TOKEN: token ?? "",
      GIT_CONFIG_COUNT: String(3 + (helper.length ? 1 : 0)),
      GIT_CONFIG_KEY_0: "user.name",
      GIT_CONFIG_VALUE_0: "Contract Test",
      GIT_CONFIG_KEY_1: "user.email",
      GIT_CONFIG_VALUE_1: "contract@example.com",
      GIT_CONFIG_KEY_2: "init.defaultBranch",
      GIT_CONFIG_VALUE_2: "main",
      ...(helper.length ? { GIT_CONFIG_KEY_3: helper[0], GIT_CONFIG_VALUE_3: helper[1] } : {}),
    };
  }

  /** git ARGS in cwd; never throws (tests assert the exit code and what git said). */
  git(cwd: string, args: readonly string[], token: string | null = this.target.token, username?: string): Promise<ExecResult> {
    return run("git", args, { cwd, env: this.env(token, username), allowFailure: true, timeoutMs: 60_000 });
  }

  /** A fresh clone of the project (an empty repository clones too, with a warning). */
  async clone(token: string | null = this.target.token, username?: string): Promise<{ dir: string; result: ExecResult }> {
    const dir = mkdtempSync(join(this.home, "clone-"));
    const result = await this.git(this.home, ["clone", "--quiet", this.remote, dir], token, username);
    return { dir, result };
  }

  /** Writes a file, commits it and returns the new head. */
  async commit(dir: string, file: string, content: string, message: string): Promise<string> {
    writeFileSync(join(dir, file), content);
    await this.must(dir, ["add", file]);
    await this.must(dir, ["commit", "--quiet", "-m", message]);
    return (await this.must(dir, ["rev-parse", "HEAD"])).stdout.trim();
  }

  async must(cwd: string, args: readonly string[]): Promise<ExecResult> {
    const r = await this.git(cwd, args);
    if (r.code !== 0) throw new Error(`git ${args.join(" ")} failed (exit ${r.code}): ${r.stderr}`);
    return r;
  }

  cleanup(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** The project's path for git URLs: GITLAB_PROJECT_PATH on a real GitLab, the seeded project on the emulator. */
export function projectPathOf(target: Target): string {
  if (!target.real) return "pifleet/infra";
  const path = process.env.GITLAB_PROJECT_PATH;
  if (!path) throw new Error("GITLAB_PROJECT_PATH (e.g. group/project) must be set to run the git contract against a real GitLab");
  return path;
}
