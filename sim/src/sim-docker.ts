import { OperationError } from "@pifleet/fleet";
import { type ExecOptions, run } from "@pifleet/io";
import { NODE_LABEL, SIM_LABEL } from "./layout.js";

/** Thin wrappers over the docker CLI for the things a sim owns, all found by their label. */

/** `docker …` through the CLI on PATH, answering its stdout trimmed (ids, names, formatted fields). */
export async function docker(args: readonly string[], options: ExecOptions = {}): Promise<string> {
  return (await run("docker", args, options)).stdout.trim();
}

/** Every IPv4 subnet any Docker network on this engine uses (ours, other sims', other tools'). */
export async function usedSubnets(): Promise<string[]> {
  const ids = (await docker(["network", "ls", "-q"])).split("\n").filter(Boolean);
  if (ids.length === 0) return [];
  const out = await docker(["network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", ...ids]);
  return out.split(/\s+/).filter((s) => s.includes("/"));
}

/** Creates a labelled bridge network; false when the subnet was taken meanwhile (another sim won the race). */
export async function createNetwork(name: string, subnet: string, gateway: string, instance: string): Promise<boolean> {
  try {
    await docker([
      "network",
      "create",
      "--driver",
      "bridge",
      "--subnet",
      subnet,
      "--gateway",
      gateway,
      "--label",
      `${SIM_LABEL}=${instance}`,
      name,
    ]);
    return true;
  } catch (err) {
    if (err instanceof OperationError && /overlap|already exists/i.test(err.message)) return false;
    throw err;
  }
}

export interface ContainerInfo {
  node: string;
  name: string;
  /** Docker's state: created, running, paused, restarting, exited, dead. */
  state: string;
}

export async function simContainers(instance: string): Promise<ContainerInfo[]> {
  const out = await docker([
    "ps",
    "-a",
    "--filter",
    `label=${SIM_LABEL}=${instance}`,
    "--format",
    `{{.Label "${NODE_LABEL}"}}\t{{.Names}}\t{{.State}}`,
  ]);
  return out
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [node = "", name = "", state = ""] = line.split("\t");
      return { node, name, state };
    });
}

/** Names of the containers attached to a network right now (a partitioned node is not). */
export async function attachedContainers(network: string): Promise<Set<string>> {
  const out = await docker(["network", "inspect", "--format", "{{range .Containers}}{{.Name}} {{end}}", network], { allowFailure: true });
  return new Set(out.split(/\s+/).filter(Boolean));
}

async function listIds(kind: "container" | "network" | "volume", label: string): Promise<string[]> {
  const args = kind === "container" ? ["ps", "-a", "-q"] : [kind, "ls", "-q"];
  return (await docker([...args, "--filter", `label=${label}`])).split("\n").filter(Boolean);
}

/** Removes every container, network and volume carrying this instance's label; returns counts. */
export async function removeInstance(instance: string): Promise<{ containers: number; networks: number; volumes: number }> {
  const label = `${SIM_LABEL}=${instance}`;
  const containers = await listIds("container", label);
  if (containers.length > 0) await docker(["rm", "-f", "-v", ...containers]);
  const networks = await listIds("network", label);
  if (networks.length > 0) await docker(["network", "rm", ...networks]);
  const volumes = await listIds("volume", label);
  if (volumes.length > 0) await docker(["volume", "rm", "-f", ...volumes]);
  return { containers: containers.length, networks: networks.length, volumes: volumes.length };
}

/** Whether any sim (of any instance) still has a container or network on this engine. */
export async function anySimResources(): Promise<boolean> {
  return (await listIds("container", SIM_LABEL)).length > 0 || (await listIds("network", SIM_LABEL)).length > 0;
}
