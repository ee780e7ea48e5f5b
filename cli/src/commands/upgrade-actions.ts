import { hostname } from "node:os";
import {
  observeNodes,
  planRoll,
  type RollPlan,
  type RollReport,
  renderRollPlanText,
  renderRollReportText,
  runRoll,
} from "@pifleet/ansible-bridge";
import { EnvironmentError, InputError, OperationError } from "@pifleet/fleet";
import { sshShell } from "@pifleet/io";
import { connectRunners, desiredFromFleet, explainRunnerError, nodeRunningThisJob } from "@pifleet/runner-manager";
import type { Command } from "commander";
import { askYes, missingTools } from "../bootstrap/probe.js";
import { globals, loadFleet, progressFor } from "../context.js";
import { info, print, printJson } from "../output.js";
import { rollActions } from "../rolling/actions.js";
import { candidateHolders, currentHoldings, handOffProviders } from "../rolling/hand-offs.js";

export interface UpgradeFlags {
  pendingOnly?: boolean;
  limit?: string;
  yes?: boolean;
  /** ms, per node. */
  timeout: number;
  workDir: string;
}

const TOOLS = [
  {
    program: "ansible-playbook",
    neededFor: "the reboots and engine restarts (ansible/rolling.yml)",
    install: "sudo apt-get install ansible",
  },
  { program: "ssh", neededFor: "reading and draining the nodes", install: "sudo apt-get install openssh-client" },
];

export async function upgrade(flags: UpgradeFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const loaded = await loadFleet(cmd);
  const { fleet } = loaded;
  const progress = progressFor(cmd);
  const limit = (flags.limit ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = limit.filter((n) => !fleet.nodes.some((x) => x.name === n));
  if (unknown.length > 0)
    throw new InputError(`--limit: unknown node ${unknown.join(", ")}`, `Nodes: ${fleet.nodes.map((n) => n.name).join(", ")}.`);
  const missing = await missingTools(TOOLS);
  if (missing.length > 0)
    throw new EnvironmentError(
      `missing: ${missing.map((t) => `${t.program} (for ${t.neededFor})`).join(", ")}`,
      missing.map((t) => t.install).join("; "),
    );

  const runnerNodes = desiredFromFleet(fleet)
    .nodes.filter((n) => n.runners.length > 0)
    .map((n) => n.name);
  // Only a roll that touches runner nodes needs GitLab (and its token: exit 3 when missing).
  const runners = runnerNodes.length > 0 ? connectRunners(loaded, { progress: (m) => progress.update(m) }) : undefined;
  const shell = sshShell(fleet.ssh);
  const handOffs = handOffProviders(fleet, shell);
  try {
    progress.update(`reading ${limit.length || fleet.nodes.length} nodes${flags.pendingOnly ? "" : " (apt update, simulated upgrade)"}`);
    const observations = await observeNodes(fleet, shell, { upgrade: !flags.pendingOnly, ...(limit.length > 0 ? { nodes: limit } : {}) });
    const selfNode = nodeRunningThisJob(process.env, fleet.cluster) ?? fleet.nodes.find((n) => n.name === hostname())?.name;
    const plan = planRoll({
      fleet,
      observations,
      holdings: await currentHoldings(handOffs),
      holders: candidateHolders(handOffs),
      runnerNodes,
      upgrade: !flags.pendingOnly,
      ...(selfNode ? { selfNode } : {}),
    });
    progress.done();
    if (!g.json) print(renderRollPlanText(plan));
    if (plan.nodes.length === 0) return finish(g.json, plan, undefined);
    if (!flags.yes && !(await askYes("Roll? [y/N] "))) {
      throw new OperationError("not rolled: every node is as it was", "Rerun and answer y, or pass --yes.");
    }
    const report = await runRoll(
      plan,
      rollActions({
        fleet,
        shell,
        runners,
        handOffs,
        timeoutMs: flags.timeout,
        pollMs: 2_000,
        workDir: flags.workDir,
        progress: (m) => progress.update(m),
      }),
      {
        onEvent: (e) => {
          const line = `${e.node}: ${e.step}${e.phase === "start" ? "" : ` ${e.phase}`}${e.detail ? ` (${e.detail})` : ""}`;
          if (e.phase === "start") progress.update(line);
          else progress.log(line);
        },
      },
    );
    progress.done();
    finish(g.json, plan, report);
  } catch (err) {
    progress.done();
    throw explainRunnerError(err);
  } finally {
    await shell.close();
    await runners?.close();
  }
}

function finish(json: boolean, plan: RollPlan, report: RollReport | undefined): void {
  if (json) printJson({ plan, report: report ?? null });
  else if (report) print(renderRollReportText(report));
  for (const s of plan.skipped) info(`note: ${s.node} was skipped: ${s.reason}`);
  if (report?.failed)
    throw new OperationError(
      `the roll stopped at ${report.failed.node} (${report.failed.step}): ${report.failed.message}`,
      `${report.failed.node} is left as the failed step left it (drained, runners paused) for you to look at; ${report.notReached.length > 0 ? `${report.notReached.join(", ")} were not touched. ` : ""}Rerun pifleet upgrade once it is fixed: what is done is not redone.`,
    );
}
