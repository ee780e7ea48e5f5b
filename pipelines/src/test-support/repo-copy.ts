import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { processRunner, run } from "@pifleet/io";

/** Paths this package owns: copied from the working tree so uncommitted work is what runs. */
const OWN_PATHS = ["pipelines", "cli/src/commands/pipeline.ts", "cli/src/commands/mr.ts", ".gitlab-ci.yml"];

/**
 * A throwaway git repository holding the project as committed at HEAD, with
 * this package's own files from the working tree on top, and node_modules
 * linked to the real one (sibling workspace packages point at the copy, so
 * the copy's code is what runs). gitlab-ci-local needs a git work tree and
 * copies only tracked files, hence the commit.
 */
export async function copyRepo(root: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "pifleet-pipelines-"));
  await processRunner.pipe(["git", ["-C", root, "archive", "HEAD"]], ["tar", ["-x", "-C", dir]]);
  const listed = await run("git", ["-C", root, "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", ...OWN_PATHS]);
  const own = listed.stdout.split("\0").filter(Boolean);
  await run("rsync", ["-a", "--from0", "--files-from=-", `${root}/`, `${dir}/`], { input: own.join("\0") });

  const modules = join(dir, "node_modules");
  mkdirSync(join(modules, "@pifleet"), { recursive: true });
  mkdirSync(join(modules, ".bin"));
  for (const entry of readdirSync(join(root, "node_modules"))) {
    if (entry === "@pifleet" || entry === ".bin") continue;
    symlinkSync(join(root, "node_modules", entry), join(modules, entry));
  }
  // Each workspace link as npm made it (relative, e.g. ../../counter-app/service), so it points into the copy.
  const workspaces = readdirSync(join(root, "node_modules", "@pifleet")).map((pkg) => ({
    pkg,
    link: readlinkSync(join(root, "node_modules", "@pifleet", pkg)),
  }));
  for (const { pkg, link } of workspaces) symlinkSync(link, join(modules, "@pifleet", pkg));
  // Binaries are relative links (../typescript/bin/tsc); recreate them so `pifleet` runs the copy's CLI.
  for (const bin of readdirSync(join(root, "node_modules", ".bin"))) {
    symlinkSync(readlinkSync(join(root, "node_modules", ".bin", bin)), join(modules, ".bin", bin));
  }
  // Workspaces may hold their own node_modules (a version that differs from the root's).
  // Copied, not linked: tsc refuses declarations whose types live outside the project.
  for (const { link } of workspaces) {
    const folder = relative(root, join(root, "node_modules", "@pifleet", link));
    const own = join(root, folder, "node_modules");
    if (existsSync(own)) cpSync(own, join(dir, folder, "node_modules"), { recursive: true, verbatimSymlinks: true });
  }
  const git = (...args: string[]) => run("git", ["-C", dir, ...args]);
  await git("init", "-q", "-b", "main");
  await git("add", "-A");
  await git("-c", "user.email=pifleet@example.invalid", "-c", "user.name=pifleet test", "commit", "-q", "-m", "copy for gitlab-ci-local");
  return dir;
}
