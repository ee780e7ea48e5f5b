import type { GitlabApi } from "../gitlab-api.js";
import type { NodeAccess } from "../node-access.js";

export class InjectedCrash extends Error {
  constructor(readonly at: string) {
    super(`injected crash after ${at}`);
  }
}

/**
 * The crash seam: wraps a GitlabApi and a NodeAccess so that the Nth call
 * (GitLab calls, and node writes) completes and then throws, as if pifleet
 * died right after the side effect and before it could record the result.
 */
export function crashAfter(n: number, api: GitlabApi, nodes: NodeAccess): { api: GitlabApi; nodes: NodeAccess; calls: () => string[] } {
  const seen: string[] = [];
  const counted = <T extends object>(target: T, methods: string[]): T =>
    new Proxy(target, {
      get(obj, prop, receiver) {
        const value = Reflect.get(obj, prop, receiver);
        if (typeof value !== "function" || !methods.includes(String(prop))) return value;
        return async (...args: unknown[]) => {
          const result = await value.apply(obj, args);
          seen.push(String(prop));
          if (seen.length === n) throw new InjectedCrash(`${String(prop)} (call ${n})`);
          return result;
        };
      },
    });
  return {
    api: counted(api, [
      "listRunners",
      "getRunner",
      "createRunner",
      "updateRunner",
      "deleteRunner",
      "resetToken",
      "runningJobs",
      "verifyToken",
    ]),
    nodes: counted(nodes, ["writeConfig", "markPendingRotation", "reload", "restartLater", "stopRunner", "startRunner"]),
    calls: () => [...seen],
  };
}
