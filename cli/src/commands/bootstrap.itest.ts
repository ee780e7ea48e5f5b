import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { knownKeysFor, run } from "@pifleet/io";
import { SIM_PROJECT_PATH, type SimStatus, simDown, simUp } from "@pifleet/sim";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PIFLEET_BIN } from "../test-support/run-cli.js";

// `pifleet bootstrap` on a fresh 2-node sim, the way someone with new Pis runs it: a fleet file whose
// known_hosts starts EMPTY (the sim's own stays where `sim up` wrote it, to compare with), the emulator
// as GitLab, the project given by its path.
const dir = "/tmp/pifleet-itest-bootstrap";
const work = `${dir}-laptop`;
const fleetFile = `${work}/fleet.yaml`;
const knownHosts = `${work}/known_hosts`;
const log = (m: string) => process.stderr.write(`[bootstrap itest] ${m}\n`);
let sim: SimStatus;

interface BootstrapJson {
  knownHosts: { file: string; added: string[] };
  nodes: { node: string; hostKey: { status: string; fingerprints: string[] } }[];
  configure: { hosts: Record<string, { changed: number; failed: number; unreachable: number }>; changed: number };
  runners: { plan: { actions: unknown[] }; applied: number };
  variables: { key: string; action: string; variable_type: string; protected: boolean; masked: boolean }[];
  push: { remote: string | null; commands: string[] };
}

function pifleet(args: string[], env: NodeJS.ProcessEnv = {}) {
  const started = Date.now();
  return run(process.execPath, [PIFLEET_BIN, "--fleet", fleetFile, ...args], {
    cwd: work,
    env: { ...process.env, NO_COLOR: "1", PIFLEET_FLEET: "", PIFLEET_SSH_KEY: "", GITLAB_TOKEN: sim.gitlab?.token, ...env },
    allowFailure: true,
    timeoutMs: 1_200_000,
  }).then((r) => {
    log(`pifleet ${args.join(" ")}: exit ${r.code} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return r;
  });
}

const bootstrap = (...extra: string[]) => pifleet(["bootstrap", "--project", SIM_PROJECT_PATH, "--work-dir", `${work}/ansible`, ...extra]);

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${sim.gitlab?.url}/api/v4${path}`, { headers: { "PRIVATE-TOKEN": sim.gitlab?.token ?? "" } });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Each node's pinned key blobs, in base64, from a known_hosts text. */
const pins = (text: string) => sim.nodes.map((n) => knownKeysFor(text, n.address).map((k) => `${k.type} ${k.key.toString("base64")}`));

beforeAll(async () => {
  const started = Date.now();
  sim = await simUp({ dir, nodes: 2, progress: (m) => log(m) });
  log(`sim up: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  // The sim's fleet file, with the laptop's own (empty) known_hosts and the sim's key by absolute path.
  const fleet = (await readFile(sim.fleetFile, "utf8"))
    .replace(/knownHosts: .*/, `knownHosts: ${knownHosts}`)
    .replace(/privateKey: .*/, `privateKey: ${sim.sshKey}`);
  expect(fleet).toContain(`knownHosts: ${knownHosts}`);
  await writeFile(fleetFile, fleet);
  await writeFile(knownHosts, "");
});

afterAll(async () => {
  await simDown(dir);
  await rm(dir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe("pifleet bootstrap on a fresh sim", () => {
  let first: BootstrapJson;

  it("without the token, stops before anything and says what to set (exit 3)", async () => {
    const r = await pifleet(["bootstrap", "--yes"], { GITLAB_TOKEN: "" });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain("the environment variable GITLAB_TOKEN is not set");
    expect(await readFile(knownHosts, "utf8")).toBe("");
  });

  it("never trusts a new key silently: no --yes and no answer is no, and nothing is written (exit 1)", async () => {
    const r = await bootstrap();
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^ {2}pi1 {2}\S+ {2}ssh-ed25519 {2}SHA256:[A-Za-z0-9+/]{43}$/m);
    expect(r.stderr).toContain("Trust these host keys? [y/N]");
    expect(r.stderr).toContain("host keys not trusted: nothing was written, nothing changed");
    expect(await readFile(knownHosts, "utf8")).toBe("");
  });

  it("with --yes pins the sim's real host keys, configures, registers the runners and sets the variables", async () => {
    const r = await bootstrap("--yes", "--json");
    expect(r.code, r.stderr).toBe(0);
    first = JSON.parse(r.stdout) as BootstrapJson;

    // The keys pinned are the ones `sim up` installed in the nodes.
    expect(first.knownHosts.added).toEqual(["pi1", "pi2"]);
    const ours = pins(await readFile(knownHosts, "utf8"));
    expect(ours).toEqual(pins(await readFile(sim.knownHosts, "utf8")));
    expect(ours.every((keys) => keys.length === 1)).toBe(true);
    expect(r.stderr).toMatch(/pi2 {2}\S+ {2}ssh-ed25519 {2}SHA256:/);

    expect(Object.keys(first.configure.hosts).sort()).toEqual(["pi1", "pi2"]);
    for (const h of Object.values(first.configure.hosts)) expect(h).toMatchObject({ failed: 0, unreachable: 0 });

    // One runner per node and pool: the amd64-docker pool on both, the deploy pool on both.
    const runners = await api<{ description: string }[]>(`/projects/${sim.gitlab?.projectId}/runners?per_page=100`);
    const names = runners.map((x) => x.description.split(" ")[1]).sort();
    expect(names).toEqual([
      `${sim.instance}/pi1/amd64-docker`,
      `${sim.instance}/pi1/deploy`,
      `${sim.instance}/pi2/amd64-docker`,
      `${sim.instance}/pi2/deploy`,
    ]);
    expect(first.runners.applied).toBeGreaterThan(0);

    // The variables, read back through the API, with GitLab's flags.
    const vars = await api<
      { key: string; value: string; variable_type: string; protected: boolean; masked: boolean; environment_scope: string }[]
    >(`/projects/${sim.gitlab?.projectId}/variables?per_page=100`);
    const byKey = new Map(vars.map((v) => [v.key, v]));
    const scoped = { protected: true, environment_scope: "production" };
    expect(byKey.get("PIFLEET_SSH_KEY")).toMatchObject({ variable_type: "file", masked: false, ...scoped });
    expect(byKey.get("PIFLEET_SSH_KEY")?.value).toBe(await readFile(sim.sshKey, "utf8"));
    expect(byKey.get("GITLAB_TOKEN")).toMatchObject({ variable_type: "env_var", masked: true, value: sim.gitlab?.token, ...scoped });
    // The MR note's token: minted by bootstrap, a Reporter's, unprotected; it may not read the variables.
    const note = byKey.get("PIFLEET_NOTE_TOKEN");
    expect(note).toMatchObject({ protected: false, masked: true, environment_scope: "*" });
    expect(note?.value).not.toBe(sim.gitlab?.token);
    const refused = await fetch(`${sim.gitlab?.url}/api/v4/projects/${sim.gitlab?.projectId}/variables`, {
      headers: { "PRIVATE-TOKEN": note?.value ?? "" },
    });
    expect(refused.status).toBe(403);
    expect(first.variables.map((v) => [v.key, v.action])).toEqual([
      ["PIFLEET_SSH_KEY", "create"],
      ["GITLAB_TOKEN", "create"],
      ["PIFLEET_NOTE_TOKEN", "create"],
    ]);

    // Names and flags only: neither secret in anything it printed.
    for (const secret of [sim.gitlab?.token ?? "", (await readFile(sim.sshKey, "utf8")).split("\n")[1] ?? ""]) {
      expect(secret.length).toBeGreaterThan(8);
      expect(r.stdout + r.stderr).not.toContain(secret);
    }
    expect(first.push.remote).toBe(`${sim.gitlab?.url}/${SIM_PROJECT_PATH}.git`);
  });

  it("a second run changes nothing: no key added, Ansible 0 changed, no runner step, every variable unchanged", async () => {
    const before = await readFile(knownHosts, "utf8");
    const r = await bootstrap("--yes", "--json");
    expect(r.code, r.stderr).toBe(0);
    const second = JSON.parse(r.stdout) as BootstrapJson;
    expect(second.knownHosts.added).toEqual([]);
    expect(second.nodes.map((n) => n.hostKey.status)).toEqual(["pinned", "pinned"]);
    expect(await readFile(knownHosts, "utf8")).toBe(before);
    expect(second.configure.changed).toBe(0);
    expect(second.runners.plan.actions).toEqual([]);
    expect(second.variables.every((v) => v.action === "unchanged")).toBe(true);
  });

  it("refuses a node whose key differs from the pinned one (exit 1), names both fingerprints, and writes nothing", async () => {
    const [pi1, pi2] = sim.nodes;
    const text = await readFile(knownHosts, "utf8");
    // pi2 pinned to pi1's key: as if pi2 had been replaced by another machine.
    const pi1Key = text
      .split("\n")
      .find((l) => l.startsWith(`${pi1?.address} `))
      ?.split(" ")[2];
    const tampered = text
      .split("\n")
      .map((l) => (l.startsWith(`${pi2?.address} `) ? `${pi2?.address} ssh-ed25519 ${pi1Key}` : l))
      .join("\n");
    expect(tampered).not.toBe(text);
    await writeFile(knownHosts, tampered);
    const r = await bootstrap("--yes");
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`pi2 (${pi2?.address}) offers ssh-ed25519 SHA256:`);
    expect(r.stderr).toContain(`ssh-keygen -R ${pi2?.address} -f ${knownHosts}`);
    expect(r.stdout).not.toContain("Bootstrap of");
    expect(await readFile(knownHosts, "utf8")).toBe(tampered);
  });
});
