import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import { OperationError } from "@pifleet/fleet";
import { type GitlabTransport, gitlabTransport, Secret } from "@pifleet/io";
import { connectRunners, desiredFromFleet, explainRunnerError, planToJson, renderPlanText } from "@pifleet/runner-manager";
import {
  applyVariables,
  desiredVariables,
  type ExistingVariable,
  listVariables,
  noteTokenFor,
  type ProjectApi,
  planVariables,
} from "@pifleet/sim";
import type { Command } from "commander";
import { pinHostKeys } from "../bootstrap/pin.js";
import { CONTROLLER_TOOLS, controllerProblems, prerequisitesError } from "../bootstrap/prerequisites.js";
import { askYes, missingTools, tcpReach, unreadable } from "../bootstrap/probe.js";
import { bootstrapProject, explainGitlabRefusal, type ProjectInfo, pushInstructions } from "../bootstrap/project.js";
import { renderPlan, renderReach, renderVariableRows, variableRows } from "../bootstrap/report.js";
import { type ProtectedBranch, type ProtectedTag, projectSettingFindings, renderSettingFindings } from "../bootstrap/settings.js";
import { globals, loadFleet, progressFor } from "../context.js";
import { info, print, printJson, warn } from "../output.js";
import { changedTasks, convergeFleet, throwIfFailed } from "./configure-actions.js";
import { failIfIncomplete, reconcileRunners } from "./runners-actions.js";

export interface BootstrapFlags {
  project?: string;
  yes?: boolean;
  workDir: string;
  drainTimeout: number;
}

/** A token used only to write the project's variables when the fleet's own token may not (least privilege). */
export const BOOTSTRAP_TOKEN_ENV = "PIFLEET_BOOTSTRAP_TOKEN";

const envValue = (name: string) => (process.env[name] ? new Secret(process.env[name]) : undefined);

/** GET /projects/:id for the clone URL and default branch; null when GitLab (or the sim's emulator) does not say. */
async function projectInfo(api: GitlabTransport, project: number | string): Promise<ProjectInfo | null> {
  try {
    return (await api.request<ProjectInfo>("GET", `/projects/${encodeURIComponent(String(project))}`)).body;
  } catch {
    return null;
  }
}

/** A list GitLab may refuse or not have (an older GitLab, the sim): null, as the settings check only informs. */
async function listOrNull<T>(api: GitlabTransport, path: string): Promise<T[] | null> {
  return api.paginate<T>(path, { per_page: 100 }).catch(() => null);
}

/** The project settings design D relies on (docs/security.md), read through the API where it allows. */
async function settingFindings(api: GitlabTransport, project: number | string, defaultBranch: string) {
  const base = `/projects/${encodeURIComponent(String(project))}`;
  const branches = await listOrNull<ProtectedBranch>(api, `${base}/protected_branches`);
  const branch = branches === null ? null : (branches.find((b) => b.name === defaultBranch) ?? "unprotected");
  return projectSettingFindings(defaultBranch, branch, await listOrNull<ProtectedTag>(api, `${base}/protected_tags`));
}

/** PIFLEET_NOTE_TOKEN as the plan shows it: the value held, or a stand-in for the token apply mints. */
const plannedNoteToken = (existing: readonly ExistingVariable[]) =>
  new Secret(existing.find((v) => v.key === "PIFLEET_NOTE_TOKEN")?.value ?? "(a Reporter token, minted on apply)");

/**
 * `pifleet bootstrap`: the first run, from a laptop, for a fresh cluster — and every rerun after a lost
 * laptop or a new key. Checks, pins host keys, shows the plan, then configures, registers runners and
 * sets the project's CI/CD variables, each through the same code as its own command.
 */
export async function bootstrap(flags: BootstrapFlags, cmd: Command): Promise<void> {
  const g = globals(cmd);
  // With --json, stdout is the result only: everything for people goes to stderr.
  const show = g.json ? info : print;
  const loaded = await loadFleet(cmd);
  const { fleet } = loaded;
  const project = bootstrapProject(fleet, flags.project);
  const tokenEnv = fleet.gitlab.tokenEnv;

  // 1. This machine, GitLab, and each Pi's sshd.
  const problems = controllerProblems({
    missingTools: await missingTools(CONTROLLER_TOOLS),
    keys: [{ path: fleet.ssh.privateKey, problem: await unreadable(fleet.ssh.privateKey) }],
    env: [{ name: tokenEnv, set: Boolean(process.env[tokenEnv]), holds: "the runner manager's GitLab token, docs/runners.md" }],
  });
  if (problems.length > 0) throw prerequisitesError(problems);
  const fleetToken = new Secret(process.env[tokenEnv] as string);
  const api = gitlabTransport({
    url: fleet.gitlab.url,
    auth: { header: "PRIVATE-TOKEN", token: envValue(BOOTSTRAP_TOKEN_ENV) ?? fleetToken },
  });
  const projectApi: ProjectApi = { api, projectId: project };
  const existing = await listVariables(projectApi).catch((err) => {
    throw explainGitlabRefusal(err, fleet.gitlab.url, project, tokenEnv);
  });
  show(`GitLab ${fleet.gitlab.url}: project ${project} answers, and the token may read its CI/CD variables.`);

  const port = fleet.ssh.port;
  const reach = await Promise.all(fleet.nodes.map(async (n) => ({ node: n, ...(await tcpReach(n.address, port)) })));
  show(
    `SSH (port ${port}) on ${fleet.nodes.length} nodes:\n${reach.map((r) => renderReach(r.node.name, r.node.address, port, r)).join("\n")}`,
  );
  const down = reach.filter((r) => !r.reachable).map((r) => r.node.name);
  if (down.length > 0) {
    throw new OperationError(
      `${down.join(", ")} did not answer on port ${fleet.ssh.port}; nothing was changed`,
      "Power them on and check their addresses in the fleet file (your router's DHCP list, or `ping <hostname>.local`), then rerun.",
    );
  }

  // 2. Host keys: pinned before anything logs in, so every later SSH connection checks them strictly.
  const pinned = await pinHostKeys({
    nodes: fleet.nodes,
    port: fleet.ssh.port,
    knownHostsFile: fleet.ssh.knownHosts,
    yes: Boolean(flags.yes),
    show,
  });

  // The plan: what the next steps will do.
  const sshKey = new Secret(await readFile(fleet.ssh.privateKey, "utf8"));
  const desired = desiredVariables({ sshKey, fleetToken, noteToken: plannedNoteToken(existing) });
  const runnersWanted = desiredFromFleet(fleet).nodes.reduce((n, node) => n + node.runners.length, 0);
  show(
    renderPlan({
      cluster: fleet.cluster,
      gitlab: fleet.gitlab.url,
      project,
      nodes: fleet.nodes.map((n) => n.name),
      runners: runnersWanted,
      variables: variableRows(planVariables(desired, existing)),
    }),
  );
  const info_ = await projectInfo(api, project);
  const settings = await settingFindings(api, project, info_?.default_branch ?? "main");
  show(`Project settings merge-request safety relies on (docs/security.md):\n${renderSettingFindings(settings)}`);
  if (!flags.yes && !(await askYes("Apply? [y/N] "))) {
    throw new OperationError("not applied: the Pis, the runners and the variables are as they were", "Rerun and answer y, or pass --yes.");
  }

  // 3. Configure the Pis, then their runners.
  const configured = await convergeFleet(fleet, { workDir: flags.workDir }, progressFor(cmd));
  throwIfFailed(configured);
  const progress = progressFor(cmd);
  const ctx = connectRunners(loaded, { progress: (m) => progress.update(m) });
  let runners: Awaited<ReturnType<typeof reconcileRunners>>;
  try {
    runners = await reconcileRunners(ctx, fleet, { drainTimeoutMs: flags.drainTimeout, progress, show: (p) => show(renderPlanText(p)) });
  } catch (err) {
    throw explainRunnerError(err);
  } finally {
    progress.done();
    await ctx.close();
  }
  failIfIncomplete(runners.report);

  // 4. The project's CI/CD variables: listed again, as someone may have changed them since the plan. The MR
  // note's Reporter token is minted here (once: a rerun keeps it while it is ours and active). A GitLab that
  // mints no project access token (GitLab.com Free) still gets the deploy variables; the note waits.
  const applied = await (async () => {
    const current = await listVariables(projectApi);
    const noteToken = await noteTokenFor(projectApi, current).catch((err: unknown) => {
      warn(noteTokenWarning(explainGitlabRefusal(err, fleet.gitlab.url, project, tokenEnv)));
      return undefined;
    });
    return applyVariables(projectApi, desiredVariables({ sshKey, fleetToken, ...(noteToken ? { noteToken } : {}) }), current);
  })().catch((err) => {
    throw explainGitlabRefusal(err, fleet.gitlab.url, project, tokenEnv);
  });
  const variables = variableRows(applied);
  show(`CI/CD variables of project ${project} (names and flags; values never shown):\n${renderVariableRows(variables)}`);

  // 5. What to push.
  const push = pushInstructions(fleet.gitlab.url, project, info_, {
    fleet: relative(process.cwd(), loaded.file) || loaded.file,
    knownHosts: relative(process.cwd(), fleet.ssh.knownHosts) || fleet.ssh.knownHosts,
  });
  show(
    `\nThe fleet is ready. Push this repository, and its pipeline takes over from here:\n${push.commands.map((c) => `  ${c}`).join("\n")}`,
  );

  if (g.json) {
    printJson({
      cluster: fleet.cluster,
      gitlab: { url: fleet.gitlab.url, project },
      nodes: fleet.nodes.map((n, i) => ({ node: n.name, address: n.address, reachMs: reach[i]?.ms, hostKey: pinned.nodes[i] })),
      knownHosts: { file: fleet.ssh.knownHosts, added: pinned.added },
      configure: { hosts: configured.hosts, changed: changedTasks(configured) },
      runners: { plan: planToJson(runners.plan), applied: runners.report.applied.length },
      variables,
      settings,
      push,
    });
  }
}

/** Why MR plans will have no note, and how to give them one by hand. */
function noteTokenWarning(err: unknown): string {
  const reason = err instanceof Error ? err.message : String(err);
  return (
    `the MR plan note's token was not minted (${reason}); merge-request plans run but post no note. ` +
    "Project access tokens need the Maintainer role (and on GitLab.com a paid tier): create one by hand " +
    "(Settings → Access tokens: role Reporter, scope api) and set it as the masked CI/CD variable PIFLEET_NOTE_TOKEN."
  );
}
