import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * GitLab's protected-branch rule for pushes (the default branch: "Allowed to push" Maintainers): a
 * caller below Maintainer may push every other branch but not that one. Enforced where GitLab does,
 * in receive-pack's pre-receive hook, so git reports it as GitLab's does
 * ("remote: GitLab: You are not allowed to push code to protected branches on this project." and
 * "[remote rejected] … (pre-receive hook declined)"). The hook reads the refs it guards from the
 * environment; callers allowed to push them run receive-pack without it.
 */
const HOOK = `#!/bin/sh
# pifleet sim: protected branches (PIFLEET_SIM_PROTECTED_REFS) are refused to this push's caller.
[ -n "$PIFLEET_SIM_PROTECTED_REFS" ] || exit 0
status=0
while read -r old new ref; do
  for guarded in $PIFLEET_SIM_PROTECTED_REFS; do
    [ "$ref" = "$guarded" ] && status=1
  done
done
[ "$status" = 0 ] || echo "GitLab: You are not allowed to push code to protected branches on this project."
exit "$status"
`;

/** Writes the hook under `root` (once per process is enough; rewriting is harmless) and returns its hooks dir. */
export async function protectedPushHooks(root: string): Promise<string> {
  const dir = join(root, "hooks");
  await mkdir(dir, { recursive: true });
  const hook = join(dir, "pre-receive");
  await writeFile(hook, HOOK);
  await chmod(hook, 0o755);
  return dir;
}

/** The environment that makes receive-pack run the hook for these refs (git's GIT_CONFIG_COUNT config). */
export function protectedPushEnv(hooksDir: string, protectedRefs: readonly string[]): NodeJS.ProcessEnv {
  return {
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "core.hooksPath",
    GIT_CONFIG_VALUE_0: hooksDir,
    PIFLEET_SIM_PROTECTED_REFS: protectedRefs.join(" "),
  };
}
