import { MIRROR_NODE_VERSION, MIRROR_NPM_VERSION, type SimMirrorResult } from "@pifleet/sim";
import { describe, expect, it } from "vitest";
import { PIPELINE_TEST_TIMEOUT_MS, type SharedSim } from "../shared-sim.js";
import { logger, onNode, pifleetJson, pifleetRaw, type Runner, seconds, until } from "../support.js";

const log = logger("e2e first run");

/** What `pifleet bootstrap --json` reports, the parts this flow reads. */
interface BootstrapReport {
  knownHosts: { added: string[] };
  nodes: { node: string; hostKey: { status: string } }[];
  configure: { hosts: Record<string, { failed: number; unreachable: number }> };
  variables: { key: string; action: string }[];
}

/**
 * The first run on a fresh sim, as `npm run up` does it: the mirror refuses before the registry
 * exists; `pifleet bootstrap --yes` from this machine (configure, runners, CI/CD variables); then `sim mirror` puts
 * the pipeline's public images into the cluster registry, and the nodes pull and use them.
 */
export function firstRunFlow(s: SharedSim): void {
  describe("first run: bootstrap from this machine and the image mirror", () => {
    let first: SimMirrorResult;
    const registryNode = () => s.sim.nodes[0] as { name: string; address: string };
    const run = async (argv: string[]) => {
      const r = await onNode(s.sim, registryNode().name, argv);
      expect(r.code, `${argv.join(" ")} on ${registryNode().name}:\n${r.stderr}`).toBe(0);
      return r.stdout.trim();
    };

    it("sim mirror refuses, as an environment problem (exit 3), while the cluster registry is not converged", async () => {
      const r = await pifleetRaw(["sim", "mirror", "--dir", s.simDir], s.env);
      expect(r.code).toBe(3);
      const { name, address } = registryNode();
      expect(r.stderr).toContain(`the cluster registry at ${address}:5000 (on ${name}) does not answer`);
    });

    it(
      "pifleet bootstrap --yes configures every node, registers one runner per node and pool (all online) and sets the variables",
      async () => {
        const t0 = Date.now();
        const report = await pifleetJson<BootstrapReport>(["bootstrap", "--yes", "--json"], s.env);
        const t1 = Date.now();
        // sim up pinned the host keys already, as `npm run up` finds them: bootstrap adds none (bootstrap.itest starts empty).
        expect(report.knownHosts.added).toEqual([]);
        expect(report.nodes.map((n) => n.hostKey.status)).toEqual(["pinned", "pinned", "pinned", "pinned"]);
        expect(Object.values(report.configure.hosts).every((h) => h.failed === 0 && h.unreachable === 0)).toBe(true);
        expect(report.variables.filter((v) => v.action === "create").map((v) => v.key)).toEqual(
          expect.arrayContaining(["PIFLEET_SSH_KEY", "GITLAB_TOKEN"]),
        );
        // The runner stand-ins read the new config.toml and ask for jobs: every runner shows online.
        const runners = await until("every runner online", 120_000, async () => {
          const list = await s.api<Runner[]>("GET", `${s.project}/runners?per_page=100`);
          return list.length > 0 && list.every((r) => r.status === "online") ? list : undefined;
        });
        s.figures.push(`bootstrap --yes: ${seconds(t1 - t0)}, runners online ${seconds(Date.now() - t1)} later`);
        const names = runners.map((r) => r.description.split(" ")[1]?.split("/").slice(1).join("/")).sort();
        expect(names).toEqual(["pi1/amd64-docker", "pi1/deploy", "pi2/amd64-docker", "pi2/deploy", "pi3/amd64-docker", "pi4/amd64-docker"]);
      },
      PIPELINE_TEST_TIMEOUT_MS,
    );

    it("sim mirror builds the stand-ins and pushes them under mirror/; a second run builds and pushes nothing", async () => {
      let t = Date.now();
      first = await pifleetJson<SimMirrorResult>(["sim", "mirror", "--dir", s.simDir], s.env);
      s.figures.push(`first sim mirror: ${seconds(Date.now() - t)}, built ${first.built.length}, pushed ${first.pushed.length}`);
      const registry = `${registryNode().address}:5000`;
      expect(first.registry).toBe(registry);
      expect(first.images).toEqual({
        PIFLEET_DEBIAN_IMAGE: `${registry}/mirror/debian:bookworm-slim`,
        PIFLEET_NODE_IMAGE: `${registry}/mirror/node:24-bookworm`,
        PIFLEET_DOCKER_IMAGE: `${registry}/mirror/docker:27-cli`,
      });
      expect([...first.pushed].sort()).toEqual(Object.values(first.images).sort());
      expect(first.proxy).toBe(s.sim.aptProxy);
      const catalog = (await (await fetch(`http://${registry}/v2/_catalog`)).json()) as { repositories: string[] };
      expect(catalog.repositories).toEqual(expect.arrayContaining(["mirror/debian", "mirror/docker", "mirror/node"]));

      t = Date.now();
      const second = await pifleetJson<SimMirrorResult>(["sim", "mirror", "--dir", s.simDir], s.env);
      log(`second mirror: ${seconds(Date.now() - t)}`);
      expect(second.pushed).toEqual([]);
      expect(second.built).toEqual([]);
      expect(second.images).toEqual(first.images);
    });

    it("a node pulls node:24-bookworm from the registry and runs node and npm in it", async () => {
      const ref = first.images.PIFLEET_NODE_IMAGE;
      // Forget every local copy (the loaded images and the tags pushed from them), so the pull really comes from the registry.
      const local = await run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "label=pifleet.sim.image"]);
      await run(["docker", "image", "rm", ...new Set(local.split("\n").filter(Boolean))]);
      expect(await run(["docker", "image", "ls", "-q", ref])).toBe("");
      await run(["docker", "pull", "-q", ref]);
      expect(await run(["docker", "run", "--rm", ref, "node", "-v"])).toBe(`v${MIRROR_NODE_VERSION}`);
      expect(await run(["docker", "run", "--rm", ref, "npm", "-v"])).toBe(MIRROR_NPM_VERSION);
      expect(await run(["docker", "run", "--rm", ref, "sh", "-c", "git --version && curl --version && python3 --version"])).toMatch(
        /^git version [\s\S]*curl [\s\S]*Python 3/,
      );
    });

    it("npm in a container on the node reaches registry.npmjs.org through the apt proxy, and no other HTTPS host does", async () => {
      const viaProxy = ["docker", "run", "--rm", "-e", `https_proxy=${first.proxy}`, first.images.PIFLEET_NODE_IMAGE];
      expect(await run([...viaProxy, "npm", "view", "left-pad", "version"])).toBe("1.3.0");
      // .invalid never resolves: the proxy's refusal is all that is exchanged.
      const refused = await onNode(s.sim, registryNode().name, [...viaProxy, "curl", "-sS", "-o", "/dev/null", "https://example.invalid/"]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("CONNECT tunnel failed, response 403");
    });

    it("debian:bookworm-slim's apt works through the proxy, and docker:27-cli drives the node's engine", async () => {
      const debian = first.images.PIFLEET_DEBIAN_IMAGE;
      await run(["docker", "pull", "-q", debian]);
      const apt = await run([
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
      await run(["docker", "pull", "-q", cli]);
      const socket = ["-v", "/var/run/docker.sock:/var/run/docker.sock"];
      expect(await run(["docker", "run", "--rm", ...socket, cli, "docker", "version", "--format", "{{.Server.Version}}"])).toMatch(
        /^20\.10\./,
      );
    });
  });
}
