import { randomBytes } from "node:crypto";
import { chmod, copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { OperationError } from "@pifleet/fleet";
import { processRunner, sleep } from "@pifleet/io";
import type { NodePlan, SimArch, SimLayout } from "./layout.js";
import { aptProxyConf, labelArgs, nodeCreateArgs } from "./node-container.js";
import { docker } from "./sim-docker.js";
import { ensureKeyPair } from "./ssh-keys.js";

export interface NodeInputs {
  image: string;
  lxcfsDir: string | undefined;
  /** The sim's client public key, for pi's authorized_keys. */
  clientPublicKey: string;
  aptProxyUrl: string;
}

/** Where each file staged on the host lands in the node. */
const STAGED = {
  ssh_host_ed25519_key: "etc/ssh/ssh_host_ed25519_key",
  "ssh_host_ed25519_key.pub": "etc/ssh/ssh_host_ed25519_key.pub",
  authorized_keys: "home/pi/.ssh/authorized_keys",
  "apt-proxy.conf": "etc/apt/apt.conf.d/01pifleet-sim-proxy",
  "machine-id": "etc/machine-id",
} as const;

/**
 * Creates one node: its docker volume and container, then copies in its own host key (generated
 * here, so known_hosts pins a key we made, not one learnt over the network), pi's authorized_keys,
 * the apt proxy and a machine-id, and starts it. Returns the node's public host key.
 */
export async function createNode(layout: SimLayout, node: NodePlan, inputs: NodeInputs): Promise<string> {
  const staging = join(layout.files.nodes, node.name);
  const tree = join(staging, "rootfs");
  await mkdir(staging, { recursive: true });
  const hostPublicKey = await ensureKeyPair(join(staging, "ssh_host_ed25519_key"), `root@${node.name}`);
  // [content, mode]; undefined content: the file generated above, copied with its mode.
  const contents: Record<keyof typeof STAGED, [string | undefined, number]> = {
    ssh_host_ed25519_key: [undefined, 0o600],
    "ssh_host_ed25519_key.pub": [undefined, 0o644],
    authorized_keys: [`${inputs.clientPublicKey}\n`, 0o600],
    "apt-proxy.conf": [aptProxyConf(inputs.aptProxyUrl), 0o644],
    "machine-id": [`${randomBytes(16).toString("hex")}\n`, 0o444],
  };
  for (const [source, target] of Object.entries(STAGED)) {
    await mkdir(join(tree, target, ".."), { recursive: true });
    const [content, mode] = contents[source as keyof typeof STAGED];
    const to = join(tree, target);
    await rm(to, { force: true });
    if (content !== undefined) await writeFile(to, content, { mode });
    else await copyFile(join(staging, source), to);
    await chmod(to, mode);
  }
  await docker(["volume", "create", ...labelArgs(layout.instance, node.name), node.dockerVolume]);
  await docker(nodeCreateArgs(layout, node, inputs.image, inputs.lxcfsDir));
  // Only the files go into the tar (no directory entries), so the node's own directories keep their owners.
  await processRunner.pipe(
    ["tar", ["-C", tree, "--no-recursion", "-c", ...Object.values(STAGED)]],
    ["docker", ["cp", "-", `${node.container}:/`]],
  );
  await docker(["start", node.container]);
  return hostPublicKey;
}

/** A node boots systemd and sshd in a few seconds natively; qemu-user makes arm64 much slower. */
export const SSH_TIMEOUT_MS: Record<SimArch, number> = { amd64: 90_000, arm64: 300_000 };

/** Resolves once sshd on address answers with its SSH banner; no key exchange, nothing trusted. */
function sshBanner(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port: 22, timeout: 2000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("data", (d) => done(d.toString("latin1").startsWith("SSH-2.0-")));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

export async function waitForSsh(node: NodePlan, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await sshBanner(node.address)) return;
    await sleep(250);
  }
  throw new OperationError(
    `${node.name} (${node.address}): sshd did not answer within ${Math.round(timeoutMs / 1000)} s`,
    `Look inside: docker exec ${node.container} systemctl status ssh`,
  );
}
