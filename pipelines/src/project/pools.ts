import { type Arch, type Fleet, type FleetNode, InputError, poolNodes, type RunnerPool, resolveTopology } from "@pifleet/fleet";

/** A runner pool the pipeline places jobs on, with the one arch all of its nodes share. */
export interface PlacedPool {
  pool: RunnerPool;
  arch: Arch;
}

/** Where each kind of job of the project pipeline runs. */
export interface PipelinePools {
  /** Protected, docker socket: changes the fleet and builds the pifleet image (so that image is of this pool's arch). */
  deploy: PlacedPool;
  /** Unprotected docker pool of the deploy pool's arch: verify jobs, MR plan jobs, post-deploy checks. */
  container: PlacedPool;
  /** One socket pool per arch the app runs on, for native image builds; the deploy pool serves its own arch. */
  builders: PlacedPool[];
}

/** The arch every node of the pool has, if they share one and the pool's tags name it (so jobs land on that arch only). */
function singleArch(fleet: Fleet, pool: RunnerPool): Arch | undefined {
  const arches = new Set(poolNodes(fleet, pool).map((n: FleetNode) => n.arch));
  const [arch] = arches;
  return arches.size === 1 && arch !== undefined && pool.tags.includes(arch) ? arch : undefined;
}

function placed(fleet: Fleet, fits: (p: RunnerPool) => boolean): PlacedPool[] {
  return fleet.pools.flatMap((pool) => {
    const arch = singleArch(fleet, pool);
    return arch !== undefined && pool.executor === "docker" && fits(pool) ? [{ pool, arch }] : [];
  });
}

const protectedFirst = (pools: PlacedPool[]): PlacedPool[] =>
  [...pools].sort((a, b) => Number(b.pool.protected) - Number(a.pool.protected));

/**
 * Picks the pools the project pipeline needs from the fleet, or says what to add (InputError,
 * exit 2). Every job runs in a container; jobs that build images or change the fleet use the
 * node's Docker engine through a pool with dockerSocket. Pure.
 */
export function pipelinePools(fleet: Fleet): PipelinePools {
  const sockets = protectedFirst(placed(fleet, (p) => p.dockerSocket));
  const deploy = sockets[0];
  if (!deploy) {
    throw new InputError(
      "the project pipeline needs a docker-executor pool with dockerSocket: true whose nodes share one arch named in its tags, and the fleet has none",
      "Add a protected pool like examples/fleet.yaml's deploy: executor: docker, dockerSocket: true, tags [deploy, pifleet, arm64], protected: true, on one or two nodes.",
    );
  }
  const container = placed(fleet, (p) => !p.protected && !p.dockerSocket).find((c) => c.arch === deploy.arch);
  if (!container) {
    throw new InputError(
      `the project pipeline needs an unprotected docker-executor pool on ${deploy.arch} nodes with ${deploy.arch} in its tags (merge-request jobs may not use protected runners), and the fleet has none`,
      `Add a pool like examples/fleet.yaml's arm64-docker: executor: docker, tags [${deploy.arch}, docker, pi], select: {roles: [runner]}.`,
    );
  }
  const appArches = [...new Set(resolveTopology(fleet).appNodes.map((n) => n.arch))];
  const builders = [...new Set([deploy.arch, ...appArches])].map((arch) => {
    const builder = sockets.find((s) => s.arch === arch);
    if (!builder) {
      throw new InputError(
        `the app runs on ${arch} nodes, but no docker-executor pool with dockerSocket: true serves ${arch} (images are built natively, one job per arch)`,
        `Add a protected pool with executor: docker, dockerSocket: true and ${arch} in its tags on a ${arch} runner node.`,
      );
    }
    return builder;
  });
  return { deploy, container, builders };
}
