import type { Fleet } from "@pifleet/fleet";
import { EnvironmentError, InputError } from "@pifleet/fleet";
import { GitlabHttpError, GitlabNetworkError } from "@pifleet/io";

/** The GitLab project whose pipeline runs the fleet (pure): its id or path, and what to push to it. */

/** --project as given (digits: an id; else a path "group/project"), or the fleet's project runner scope. */
export function bootstrapProject(fleet: Fleet, flag: string | undefined): number | string {
  if (flag !== undefined && flag.trim() !== "") return /^\d+$/.test(flag.trim()) ? Number(flag.trim()) : flag.trim();
  const scope = fleet.gitlab.runnerScope;
  if (scope.type === "project" && scope.id !== undefined) return scope.id;
  throw new InputError(
    `--project is needed: the fleet registers its runners for ${scope.type === "instance" ? "the instance" : `group ${scope.id}`}, which names no project`,
    "Pass the project that holds this repository: --project 42 or --project group/infra.",
  );
}

/** A refused GitLab call as something a person can act on: a token problem is the environment (exit 3), a wrong project bad input (2). */
export function explainGitlabRefusal(err: unknown, url: string, project: number | string, tokenEnv: string): unknown {
  if (err instanceof GitlabNetworkError)
    return new EnvironmentError(
      `GitLab at ${url} did not answer: ${err.reason}`,
      "Check gitlab.url in the fleet file and this machine's network.",
    );
  if (!(err instanceof GitlabHttpError)) return err;
  if (err.status === 401)
    return new EnvironmentError(
      `GitLab at ${url} refused the token (401): it is unknown, expired or revoked`,
      `Create a new one (User settings → Access tokens) and export it as ${tokenEnv} (or PIFLEET_BOOTSTRAP_TOKEN).`,
    );
  if (err.status === 403)
    return new EnvironmentError(
      `GitLab at ${url} refused ${err.method} ${err.path} (403): the token lacks a scope or the Maintainer role on project ${project}`,
      "Setting CI/CD variables needs the api scope and Maintainer; give bootstrap such a token in PIFLEET_BOOTSTRAP_TOKEN " +
        `(used for the variables only, never stored), or give ${tokenEnv} the api scope. See docs/bootstrap.md.`,
    );
  if (err.status === 404)
    return new InputError(
      `GitLab at ${url} has no project ${project} that this token can see (404)`,
      "Check --project (an id, or the path as in the project's URL) or gitlab.runnerScope in the fleet file.",
    );
  return err;
}

/** What GET /projects/:id says about where to push (Entities::Project). */
export interface ProjectInfo {
  path_with_namespace: string;
  http_url_to_repo: string;
  ssh_url_to_repo: string;
  default_branch: string | null;
  web_url: string;
}

export interface PushInstructions {
  /** The project's clone URL; null when GitLab did not say and the project was given by id. */
  remote: string | null;
  branch: string | null;
  commands: string[];
}

/**
 * What the person runs next: the generated pipeline for this fleet, the fleet file and its known_hosts
 * committed (the pipeline reads both), and a push to the default branch — which starts the first pipeline.
 * `files` are relative to the repository.
 */
export function pushInstructions(
  gitlabUrl: string,
  project: number | string,
  info: ProjectInfo | null,
  files: { fleet: string; knownHosts: string },
): PushInstructions {
  const remote = info?.http_url_to_repo ?? (typeof project === "string" ? `${gitlabUrl.replace(/\/+$/, "")}/${project}.git` : null);
  const branch = info?.default_branch ?? null;
  return {
    remote,
    branch,
    commands: [
      `pifleet pipeline generate --fleet ${files.fleet}`,
      `git add ${files.fleet} ${files.knownHosts} .gitlab-ci.yml`,
      'git commit -m "pifleet: the fleet and its pipeline"',
      `git remote add gitlab ${remote ?? "<the project's clone URL, from its page on GitLab>"}`,
      `git push gitlab HEAD:${branch ?? "<the project's default branch>"}`,
    ],
  };
}
