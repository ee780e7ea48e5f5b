import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeSshMasters, configure } from "@pifleet/ansible-bridge";
import { ExitCode, type Fleet, type FleetNode, loadFleetFile } from "@pifleet/fleet";
import { type NodeShell, run, sshShell } from "@pifleet/io";
import { type SimMirrorResult, type SimStatus, simDown, simMirror, simUp } from "@pifleet/sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The sim's mirror end to end: a 1-node sim whose registry the real `registry` role runs, the
// stand-ins built on this machine and pushed there (a second run pushes nothing), then pulled
// and run on the node, with apt and npm going through the host's apt-cacher-ng.
const log = (m: string) => process.stderr.write(`[mirror itest] ${m}\n`);
let dir = "";
let sim: SimStatus;
let fleet: Fleet;
let node: FleetNode;
let shell: NodeShell;
let first: SimMirrorResult;

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const onNode = async (argv: string[]) => (await shell.run(node, argv, { describe: argv.slice(0, 4).join(" ") })).stdout.trim();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pf-mirror-"));
  sim = await simUp({ dir: join(dir, "sim"), nodes: 1, gitlab: false, progress: log });
  fleet = (await loadFleetFile(sim.fleetFile, {})).fleet;
  const [pi1] = fleet.nodes;
  if (!pi1) throw new Error("the sim has no node");
  node = pi1;
  shell = sshShell(fleet.ssh);
});

afterAll(async () => {
  await shell?.close();
  if (dir) {
    await closeSshMasters(join(dir, "ansible")).catch(() => undefined);
    await simDown(join(dir, "sim")).catch((err) => log(`sim down failed: ${String(err)}`));
    await rm(dir, { recursive: true, force: true });
  }
});

describe("pifleet sim mirror", () => {
  it("refuses, as an environment problem, while the sim's registry is not converged", async () => {
    const error = await simMirror({ dir: join(dir, "sim") }).catch((err: unknown) => err);
    expect(error).toMatchObject({ exitCode: ExitCode.environmentMissing });
    expect(String((error as Error).message)).toContain(`the cluster registry at ${node.address}:5000 (on pi1) does not answer`);
  });

  it("builds the stand-ins and pushes them into the converged registry under mirror/", async () => {
    let started = Date.now();
    const configured = await configure({ fleet, workDir: join(dir, "ansible"), tags: ["base", "docker", "registry"] });
    log(`configure base, docker, registry: exit ${configured.exitCode} in ${seconds(started)}`);
    expect(configured.failures).toEqual([]);

    started = Date.now();
    first = await simMirror({ dir: join(dir, "sim"), progress: log });
    log(`first mirror: ${seconds(started)}, built ${first.built.length} image(s), pushed ${first.pushed.length}`);
    const registry = `${node.address}:5000`;
    expect(first.registry).toBe(registry);
    expect(first.images).toEqual({
      PIFLEET_DEBIAN_IMAGE: `${registry}/mirror/debian:bookworm-slim`,
      PIFLEET_NODE_IMAGE: `${registry}/mirror/node:20-bookworm`,
      PIFLEET_DOCKER_IMAGE: `${registry}/mirror/docker:27-cli`,
    });
    expect([...first.pushed].sort()).toEqual(Object.values(first.images).sort());
    expect(first.proxy).toBe(sim.aptProxy);
    const catalog = (await (await fetch(`http://${registry}/v2/_catalog`)).json()) as { repositories: string[] };
    expect(catalog.repositories).toEqual(expect.arrayContaining(["mirror/debian", "mirror/docker", "mirror/node"]));
    for (const built of first.built) {
      const size = Number((await run("docker", ["image", "inspect", "--format", "{{.Size}}", built])).stdout.trim());
      log(`${built}: ${(size / 1e6).toFixed(0)} MB`);
    }
  });

  it("a second run builds and pushes nothing", async () => {
    const started = Date.now();
    const second = await simMirror({ dir: join(dir, "sim"), progress: log });
    log(`second mirror: ${seconds(started)}`);
    expect(second.pushed).toEqual([]);
    expect(second.built).toEqual([]);
    expect(second.images).toEqual(first.images);
  });

  it("the node pulls node:20-bookworm from the registry and runs node and npm in it", async () => {
    const ref = first.images.PIFLEET_NODE_IMAGE;
    // Forget every local copy (the loaded images and the tags pushed from them), so the pull really comes from the registry.
    const local = await onNode(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "label=pifleet.sim.image"]);
    await onNode(["docker", "image", "rm", ...new Set(local.split("\n").filter(Boolean))]);
    expect(await onNode(["docker", "image", "ls", "-q", ref])).toBe("");
    const started = Date.now();
    await onNode(["docker", "pull", "-q", ref]);
    log(`pull of ${ref} on pi1: ${seconds(started)}`);
    expect(await onNode(["docker", "run", "--rm", ref, "node", "-v"])).toBe("v20.20.2");
    expect(await onNode(["docker", "run", "--rm", ref, "npm", "-v"])).toBe("10.8.2");
    expect(await onNode(["docker", "run", "--rm", ref, "sh", "-c", "git --version && curl --version && python3 --version"])).toMatch(
      /^git version [\s\S]*curl [\s\S]*Python 3/,
    );
  });

  it("npm in a container on the node reaches registry.npmjs.org through the apt proxy, and no other HTTPS host does", async () => {
    const ref = first.images.PIFLEET_NODE_IMAGE;
    const viaProxy = ["docker", "run", "--rm", "-e", `https_proxy=${first.proxy}`, ref];
    expect(await onNode([...viaProxy, "npm", "view", "left-pad", "version"])).toBe("1.3.0");
    // .invalid never resolves: the proxy's refusal is all that is exchanged.
    const refused = await shell.run(node, [...viaProxy, "curl", "-sS", "-o", "/dev/null", "https://example.invalid/"], {
      allowFailure: true,
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("CONNECT tunnel failed, response 403");
  });

  it("debian:bookworm-slim's apt works through the proxy, and docker:27-cli drives the node's engine", async () => {
    const debian = first.images.PIFLEET_DEBIAN_IMAGE;
    await onNode(["docker", "pull", "-q", debian]);
    const apt = await onNode([
      "docker",
      "run",
      "--rm",
      "-e",
      `http_proxy=${first.proxy}`,
      debian,
      "sh",
      "-c",
      "apt-get update -q && apt-cache policy git",
    ]);
    expect(apt).toMatch(/Candidate: 1:2\.39/);
    const cli = first.images.PIFLEET_DOCKER_IMAGE;
    await onNode(["docker", "pull", "-q", cli]);
    const server = await onNode([
      "docker",
      "run",
      "--rm",
      "-v",
      "/var/run/docker.sock:/var/run/docker.sock",
      cli,
      "docker",
      "version",
      "--format",
      "{{.Server.Version}}",
    ]);
    expect(server).toMatch(/^20\.10\./);
  });
});
