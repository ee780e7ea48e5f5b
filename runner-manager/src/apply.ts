import { OperationError } from "@pifleet/fleet";
import { mayHaveReachedGitlab } from "@pifleet/io";
import {
  configChanges,
  type ManagedBlock,
  mergeConfig,
  observedBlocks,
  parseConfig,
  renderConfig,
  type TokenGrant,
} from "./config-toml.js";
import type { GitlabApi, IssuedToken } from "./gitlab-api.js";
import { checkOwnership, type Waiting, waitForNoRunningJobs } from "./guard.js";
import { renderNote } from "./identity.js";
import { type NodeAccess, NodeError } from "./node-access.js";
import { DEFERRED_RESTART_SEC, runnerRestart } from "./restart.js";
import type { Action, Plan } from "./types.js";

/**
 * Carries out a plan, in order. GitLab failures (after retries) stop the run:
 * the next run re-plans from what exists and finishes the job. A node failure
 * skips that node and the run goes on; the report lists it and the CLI exits 1.
 * A runner that fails the ownership check (not pifleet's, or deleted since the
 * plan) is skipped alone: its node's config.toml is written without it when it
 * has no token there, and the next plan sees what is left.
 */

export interface ApplyOptions {
  drain: Omit<Waiting, "onWait">;
  progress?: (message: string) => void;
  now?: () => Date;
  /** When the restart left to the node running this job fires (default DEFERRED_RESTART_SEC). */
  deferredRestartSec?: number;
}

export interface ApplyReport {
  applied: string[];
  failures: { subject: string; message: string }[];
  skippedNodes: { node: string; error: string }[];
}

export function describeAction(a: Action): string {
  if (a.kind === "write-config") return `write-config ${a.node}`;
  if (a.kind === "mark-pending-rotation") return `mark-pending-rotation ${a.node} ${a.runnerIds.map((id) => `#${id}`).join(" ")}`;
  return `${a.kind} ${a.key}${"runnerId" in a ? ` #${a.runnerId}` : ""}`;
}

export async function applyPlan(plan: Plan, api: GitlabApi, nodes: NodeAccess, options: ApplyOptions): Promise<ApplyReport> {
  const report: ApplyReport = { applied: [], failures: [], skippedNodes: [...plan.skippedNodes] };
  const created = new Map<string, number>();
  const grants = new Map<string, TokenGrant>();
  const blockedRunners = new Set<number>();
  // Nodes whose rotation could not be recorded: their tokens are not reset, or a crash could strand a dead token.
  const unmarkedNodes = new Set<string>();
  const now = options.now ?? (() => new Date());
  const deferredRestart = options.deferredRestartSec ?? DEFERRED_RESTART_SEC;
  const fail = (subject: string, message: string) => report.failures.push({ subject, message });

  const guarded = async (a: { key: string; runnerId: number }, consequence?: string): Promise<boolean> => {
    if (blockedRunners.has(a.runnerId)) return false;
    const o = await checkOwnership(api, a.runnerId, plan.cluster);
    if (!o.owned) {
      blockedRunners.add(a.runnerId);
      fail(a.key, consequence ? `${o.reason}; ${consequence}` : o.reason);
    }
    return o.owned;
  };

  for (const a of plan.actions) {
    options.progress?.(describeAction(a));
    switch (a.kind) {
      case "mark-pending-rotation":
        try {
          await nodes.markPendingRotation(a.node, a.runnerIds);
        } catch (err) {
          if (!(err instanceof NodeError)) throw err;
          unmarkedNodes.add(a.node);
          report.skippedNodes.push({ node: a.node, error: err.message });
          fail(a.node, `${err.message}; not rotated`);
          continue;
        }
        break;
      case "create": {
        const r = await createOnce(api, a, plan.cluster);
        created.set(a.key, r.id);
        grants.set(a.key, { token: r.token, obtainedAt: now(), expiresAt: r.expiresAt });
        break;
      }
      case "update":
        if (!(await guarded(a))) continue;
        await api.updateRunner(a.runnerId, a.set);
        break;
      case "reset-token": {
        if (unmarkedNodes.has(a.node) || !(await guarded(a, `left out of ${a.node}'s config.toml, the next apply creates it`))) continue;
        const t = await api.resetToken(a.runnerId);
        grants.set(a.key, { token: t.token, obtainedAt: now(), expiresAt: t.expiresAt });
        break;
      }
      case "write-config":
        if (
          unmarkedNodes.has(a.node) ||
          !(await writeNodeConfig(a, nodes, { ids: created, tokens: grants, blocked: blockedRunners }, report, deferredRestart))
        )
          continue;
        break;
      case "pause": {
        if (!(await guarded(a))) continue;
        const [node = "", pool = ""] = a.key.split("/");
        const note = renderNote({ identity: { cluster: plan.cluster, node, pool }, pausedByPifleet: true });
        await api.updateRunner(a.runnerId, { paused: true, maintenanceNote: note });
        break;
      }
      case "drain": {
        if (blockedRunners.has(a.runnerId)) continue;
        const left = await waitForNoRunningJobs(api, a.runnerId, {
          ...options.drain,
          onWait: (n, ms) =>
            options.progress?.(`drain ${a.key} #${a.runnerId}: ${n} running job${n === 1 ? "" : "s"} (${Math.round(ms / 1000)}s)`),
        });
        if (left > 0) {
          blockedRunners.add(a.runnerId);
          fail(
            a.key,
            `runner #${a.runnerId} still has ${left} running job(s) after ${Math.round(options.drain.timeoutMs / 1000)}s; it stays paused and is deleted by a later apply`,
          );
          continue;
        }
        break;
      }
      case "delete":
        if (!(await guarded(a))) continue;
        await api.deleteRunner(a.runnerId);
        break;
    }
    report.applied.push(describeAction(a));
  }
  return report;
}

/**
 * Creates a runner without ever making two. POST /user/runners is not retried once it may have
 * reached GitLab (a timeout, a dropped connection, a 5xx): GitLab may have made the runner and only
 * its answer, with the token, was lost. So look it up by its description (one per cluster, node, pool
 * and settings) and adopt it with a fresh token; only when GitLab has none, create again. Anything
 * else, or a second failure, stops the run as GitLab failures do: the next plan starts from what exists.
 */
async function createOnce(api: GitlabApi, a: Extract<Action, { kind: "create" }>, cluster: string): Promise<{ id: number } & IssuedToken> {
  try {
    return await api.createRunner(a);
  } catch (err) {
    if (!mayHaveReachedGitlab(err)) throw err;
    const sameName = (await api.listRunners()).filter((r) => r.description === a.description).sort((x, y) => x.id - y.id);
    for (const candidate of sameName) {
      // A look-alike a person made (no pifleet marker, or another cluster's) is never adopted.
      if (!(await checkOwnership(api, candidate.id, cluster)).owned) continue;
      return { id: candidate.id, ...(await api.resetToken(candidate.id)) };
    }
    return api.createRunner(a);
  }
}

/** What this run has learnt so far: new runners' ids and tokens, and runners the ownership check refused. */
interface RunState {
  ids: Map<string, number>;
  tokens: Map<string, TokenGrant>;
  blocked: Set<number>;
}

/** Writes one node's config.toml from the plan's blocks plus this run's new ids and tokens; false when the node could not be written. */
async function writeNodeConfig(
  a: Extract<Action, { kind: "write-config" }>,
  nodes: NodeAccess,
  run: RunState,
  report: ApplyReport,
  deferredRestartSec: number,
): Promise<boolean> {
  try {
    // Reread right before writing: gitlab-runner may have rotated its token since the plan was made.
    const current = parseConfig((await nodes.read(a.node)).configText, a.node);
    const onNode = new Set(observedBlocks(current).map((b) => b.id));
    const managed: ManagedBlock[] = [];
    for (const b of a.blocks) {
      const runnerId = b.runnerId ?? run.ids.get(b.key);
      if (runnerId === undefined) continue;
      const grant = run.tokens.get(b.key);
      // A refused runner whose token was not reset has none to write: leave it out (the report already says why).
      if (!grant && run.blocked.has(runnerId) && !onNode.has(runnerId)) continue;
      managed.push({ runnerId, settings: b.settings, ...(grant ? { grant } : {}) });
    }
    const next = mergeConfig(current, a.settings, managed);
    if (configChanges(current, next).length === 0) return true;
    await nodes.writeConfig(a.node, renderConfig(next));
    // Decided again on what the node has now; the plan only says whether this node runs the job (restart.ts).
    const restart = runnerRestart(current, next, a.node, a.restart === "after-this-job" ? a.node : undefined);
    if (restart === "after-this-job") await nodes.restartLater(a.node, deferredRestartSec);
    else await nodes.reload(a.node, restart === "now");
    return true;
  } catch (err) {
    // A node that is down or holds unreadable TOML is skipped; anything else is a bug or GitLab and stops the run.
    if (!(err instanceof NodeError) && !(err instanceof OperationError)) throw err;
    report.skippedNodes.push({ node: a.node, error: err.message });
    report.failures.push({ subject: a.node, message: `${err.message}; a later apply finishes this node` });
    return false;
  }
}
