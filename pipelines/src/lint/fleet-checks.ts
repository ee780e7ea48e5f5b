import { type Fleet, poolNodes } from "@pifleet/fleet";
import type { JobMap } from "./extends.js";
import type { Problem } from "./problem.js";

/**
 * Images that publish only linux/amd64, so an arm64 Pi cannot run them. A
 * short hand-kept list of well-known ones (SQL Server on Linux is x86-64 only;
 * Google Chrome has no Linux arm64 build). Docker's per-architecture
 * repositories (`amd64/node`) and an explicit `docker: platform: linux/amd64`
 * are recognised without being listed.
 */
export const AMD64_ONLY_IMAGES: readonly string[] = [
  "mcr.microsoft.com/mssql/server",
  "selenium/standalone-chrome",
  "selenium/node-chrome",
];

function imageOf(body: Record<string, unknown>): { name: string; platform?: string } | undefined {
  const image = body.image;
  if (typeof image === "string") return { name: image };
  if (typeof image !== "object" || image === null) return undefined;
  const o = image as { name?: unknown; docker?: { platform?: unknown } };
  if (typeof o.name !== "string") return undefined;
  return { name: o.name, platform: typeof o.docker?.platform === "string" ? o.docker.platform : undefined };
}

/** The image name without registry-less "docker.io/library/" noise and without its tag or digest. */
function repository(name: string): string {
  const noDigest = name.split("@")[0] ?? name;
  const lastColon = noDigest.lastIndexOf(":");
  const noTag = lastColon > noDigest.lastIndexOf("/") ? noDigest.slice(0, lastColon) : noDigest;
  return noTag.replace(/^docker\.io\/(library\/)?/, "");
}

export function isAmd64Only(image: { name: string; platform?: string }): boolean {
  if (image.platform === "linux/amd64") return true;
  const repo = repository(image.name);
  if (repo.startsWith("amd64/")) return true;
  return AMD64_ONLY_IMAGES.includes(repo);
}

function tagsOf(body: Record<string, unknown>): string[] {
  return Array.isArray(body.tags) ? body.tags.map(String) : [];
}

/** A deploy job: one that starts (deploys to) an environment. */
function deployedEnvironment(body: Record<string, unknown>): string | undefined {
  const e = body.environment;
  if (typeof e === "string") return e;
  if (typeof e !== "object" || e === null) return undefined;
  const { name, action } = e as { name?: unknown; action?: unknown };
  return typeof name === "string" && (action === undefined || action === "start") ? name : undefined;
}

/**
 * Checks that need the fleet: jobs no runner would pick up, deploys that could
 * overlap, and arm64 jobs given an amd64-only image.
 */
export function fleetProblems(jobs: JobMap, fleet: Fleet, fleetFile: string): Problem[] {
  const problems: Problem[] = [];
  // A runner picks a job when the job's tags are a subset of the runner's.
  const pools = fleet.pools
    .map((p) => ({ pool: p, nodes: poolNodes(fleet, p) }))
    .filter((p) => p.nodes.length > 0)
    .map(({ pool, nodes }) => ({ name: pool.name, tags: new Set(pool.tags), nodes }));
  const served = [...new Set(pools.flatMap((p) => [...p.tags]))].sort();

  for (const [name, body] of jobs) {
    if (body.trigger !== undefined) continue; // trigger jobs never run on a runner
    const tags = tagsOf(body);
    if (tags.length > 0) {
      const serving = pools.filter((p) => tags.every((t) => p.tags.has(t)));
      if (serving.length === 0) {
        problems.push({
          path: [name, "tags"],
          message:
            `${name} job: tags ${tags.join(", ")}: no runner pool in ${fleetFile} serves all of them, so the job would stay pending forever; ` +
            `use tags one pool has (served: ${served.join(", ") || "none"})`,
          check: "fleet",
        });
      } else {
        const image = imageOf(body);
        const nodes = [...new Set(serving.flatMap((p) => p.nodes))];
        if (image && isAmd64Only(image) && nodes.every((n) => n.arch === "arm64")) {
          problems.push({
            path: [name, "image"],
            message:
              `${name} job: image ${image.name} is amd64-only, but tags ${tags.join(", ")} run it on arm64 nodes ` +
              `(${nodes.map((n) => n.name).join(", ")}); use a multi-arch image or tags of an amd64 pool`,
            check: "fleet",
          });
        }
      }
    }
    const env = deployedEnvironment(body);
    if (env !== undefined && body.resource_group === undefined) {
      problems.push({
        path: [name, "environment"],
        message: `${name} job: deploys to environment ${env} without resource_group, so two pipelines could deploy at once; add resource_group: ${env}`,
        check: "fleet",
      });
    }
  }
  return problems;
}
