import { existsSync } from "node:fs";
import { chmod, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvironmentError, InputError } from "@pifleet/fleet";
import { afterEach, describe, expect, it } from "vitest";
import { recordingRunner } from "./fakes.js";
import { run } from "./process.js";
import { Secret } from "./secret.js";
import { NodeCommandError, type NodeShell, sshShell as openShell, type SshSettings, sshArgs } from "./ssh.js";

const opened: NodeShell[] = [];

/** Every shell a test opens is closed after it, so no socket directory is left behind. */
function sshShell(...args: Parameters<typeof openShell>): NodeShell {
  const shell = openShell(...args);
  opened.push(shell);
  return shell;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

const node = { name: "pi1", address: "198.18.0.11" };
const KEY = Buffer.from("host-key").toString("base64");

async function settings(knownHosts = `[198.18.0.11]:2222 ssh-ed25519 ${KEY}\n`, user = "pi"): Promise<SshSettings> {
  const dir = await mkdtemp(join(tmpdir(), "io-ssh-"));
  await writeFile(join(dir, "known_hosts"), knownHosts);
  await writeFile(join(dir, "id_ed25519"), "not a real key");
  return { user, port: 2222, privateKey: join(dir, "id_ed25519"), knownHosts: join(dir, "known_hosts") };
}

describe("sshArgs", () => {
  it("pins the host key, uses only the fleet key, never prompts", () => {
    const s = { user: "pi", port: 2222, privateKey: "/k/id", knownHosts: "/k/known_hosts" };
    expect(sshArgs(s, node)).toEqual([
      "-i",
      "/k/id",
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      'UserKnownHostsFile="/k/known_hosts"',
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=10",
      "-o",
      "LogLevel=ERROR",
      "-p",
      "2222",
      "--",
      "pi@198.18.0.11",
    ]);
  });

  it("keeps a user that looks like an option out of ssh's options (real ssh; its ProxyCommand would run here)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pifleet-ssh-dash-"));
    try {
      const marker = join(dir, "proxy-ran");
      const s = { user: `-oProxyCommand=touch ${marker}`, port: 9, privateKey: join(dir, "id"), knownHosts: join(dir, "kh") };
      const res = await run("ssh", [...sshArgs(s, { name: "lo", address: "127.0.0.1" }), "true"], { allowFailure: true });
      expect(res.code).not.toBe(0);
      // ssh would run `touch MARKER@127.0.0.1` had it read the user as an option.
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("sshShell", () => {
  it("runs argv quoted on the node over a shared connection", async () => {
    const s = await settings();
    const runner = recordingRunner(() => ({ stdout: "ok\n" }));
    const shell = sshShell(s, { runner });
    expect((await shell.run(node, ["echo", "a b", "$HOME"])).stdout).toBe("ok\n");
    const [call] = runner.calls;
    expect(call?.program).toBe("ssh");
    expect(call?.args.slice(0, 16)).toEqual(sshArgs(s, node).slice(0, 16));
    expect(call?.args).toContain("ControlMaster=auto");
    expect(call?.args).toContain("ControlPersist=60");
    expect(call?.args.slice(-3, -1)).toEqual(["--", "pi@198.18.0.11"]);
    expect(call?.args.at(-1)).toBe("echo 'a b' '$HOME'");
    await shell.close();
  });

  it("runs as root through sudo -n, unless the login is root", async () => {
    const runner = recordingRunner();
    await sshShell(await settings(), { runner }).run(node, ["systemctl", "restart", "docker"], { root: true });
    expect(runner.calls[0]?.args.at(-1)).toBe("sudo -n sh -c 'systemctl restart docker'");
    const asRoot = recordingRunner();
    await sshShell(await settings(undefined, "root"), { runner: asRoot }).run(node, ["systemctl", "restart", "docker"], { root: true });
    expect(asRoot.calls[0]?.args.at(-1)).toBe("systemctl restart docker");
  });

  it("runs scripts with sh -c, and secrets only through stdin", async () => {
    const runner = recordingRunner();
    const shell = sshShell(await settings(), { runner });
    await shell.script(node, 'read t; echo "$t" > /etc/token', { root: true, input: new Secret("tok-123456") });
    expect(runner.calls[0]?.args.at(-1)).toBe(`sudo -n sh -c 'read t; echo "$t" > /etc/token'`);
    expect(runner.calls[0]?.args.join(" ")).not.toContain("tok-123456");
    expect(runner.calls[0]?.input).toBe("tok-123456");
  });

  it("pipes a local command into the node", async () => {
    const runner = recordingRunner();
    await sshShell(await settings(), { runner }).pipeTo(node, ["docker", ["save", "app:1"]], ["docker", "load"]);
    expect(runner.calls.map((c) => c.program)).toEqual(["docker", "ssh"]);
    expect(runner.calls[1]?.args.at(-1)).toBe("docker load");
  });

  it("a failed command is a NodeCommandError naming node and action, secrets scrubbed", async () => {
    const runner = recordingRunner(() => ({ code: 1, stderr: "permission denied for tok-123456\n" }));
    const err = await sshShell(await settings(), { runner })
      .run(node, ["docker", "ps"], { describe: "list containers", input: new Secret("tok-123456") })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeCommandError);
    expect(err).toMatchObject({ node: "pi1", action: "list containers" });
    expect((err as Error).message).toBe("on pi1: list containers failed (exit 1): permission denied for [redacted]");
  });

  it("an unreachable node says how to reach it", async () => {
    const runner = recordingRunner(() => ({ code: 255, stderr: "ssh: connect to host 198.18.0.11 port 2222: Connection refused" }));
    const err = await sshShell(await settings(), { runner })
      .run(node, ["true"])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeCommandError);
    expect((err as Error).message).toMatch(/^on pi1: cannot true: SSH to pi@198.18.0.11 port 2222 failed: .*Connection refused/);
    expect((err as NodeCommandError).hint).toMatch(/pi1 is up/);
  });

  it("returns a failure with allowFailure", async () => {
    const runner = recordingRunner(() => ({ code: 3, stdout: "inactive\n" }));
    expect(await sshShell(await settings(), { runner }).run(node, ["systemctl", "is-active", "x"], { allowFailure: true })).toEqual({
      stdout: "inactive\n",
      stderr: "",
      code: 3,
    });
  });

  it("an unreadable known_hosts is an EnvironmentError naming the file, never 'no host key'", async () => {
    const s = await settings();
    const runner = recordingRunner();
    const missing = { ...s, knownHosts: join(s.knownHosts, "..", "absent") };
    const err = await sshShell(missing, { runner })
      .run(node, ["true"])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as Error).message).toContain(missing.knownHosts);
    expect((err as Error).message).not.toMatch(/no host key/);
    expect(runner.calls).toEqual([]);
    if (process.getuid?.() !== 0) {
      await chmod(s.knownHosts, 0);
      await expect(sshShell(s, { runner }).run(node, ["true"])).rejects.toThrow(EnvironmentError);
    }
  });

  it("a node without a pinned key is an InputError saying what to do; nothing is run", async () => {
    const runner = recordingRunner();
    const s = await settings(`198.18.0.11 ssh-ed25519 ${KEY}\n`);
    const err = await sshShell(s, { runner })
      .run(node, ["true"])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(`no host key for [198.18.0.11]:2222 (pi1) in ${s.knownHosts}`);
    expect((err as InputError).hint).toMatch(/ssh-keyscan -p 2222 198.18.0.11/);
    expect(runner.calls).toEqual([]);
  });

  it("a node whose only pinned key is @revoked is refused before ssh runs, naming the file and line", async () => {
    const runner = recordingRunner();
    const s = await settings(`[198.18.0.11]:2222 ssh-ed25519 ${KEY}\n@revoked [198.18.0.11]:2222 ssh-ed25519 ${KEY}\n`);
    const err = await sshShell(s, { runner })
      .run(node, ["true"])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(
      `no host key for [198.18.0.11]:2222 (pi1) in ${s.knownHosts} that is not marked @revoked (${s.knownHosts}:2)`,
    );
    expect(runner.calls).toEqual([]);
  });

  it("ssh refusing an offered @revoked key is an error naming the file and the @revoked line", async () => {
    // What OpenSSH 9.2 prints (sshconnect.c) when the node offers a key known_hosts marks @revoked.
    const stderr = [
      "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
      "@       WARNING: REVOKED HOST KEY DETECTED!               @",
      "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@",
      "The ED25519 host key for [198.18.0.11]:2222 is marked as revoked.",
      "This could mean that a stolen key is being used to",
      "impersonate this host.",
      "ED25519 host key for [198.18.0.11]:2222 was revoked and you have requested strict checking.",
      "Host key verification failed.",
    ].join("\n");
    const runner = recordingRunner(() => ({ code: 255, stderr }));
    const other = Buffer.from("other-key").toString("base64");
    const s = await settings(`[198.18.0.11]:2222 ssh-ed25519 ${KEY}\n@revoked * ssh-ed25519 ${other}\n`);
    const err = await sshShell(s, { runner })
      .run(node, ["true"])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeCommandError);
    expect((err as Error).message).toBe(
      `on pi1: cannot true: 198.18.0.11 offered a host key that ${s.knownHosts}:2 marks @revoked; ssh refused it`,
    );
    expect((err as NodeCommandError).hint).toMatch(/never trusted: do not connect/);
  });

  it("a missing private key is an InputError naming it", async () => {
    const s = await settings();
    await expect(sshShell({ ...s, privateKey: "/nonexistent/id" }, { runner: recordingRunner() }).run(node, ["true"])).rejects.toThrow(
      /cannot read the SSH private key \/nonexistent\/id/,
    );
  });

  it("close ends each shared connection and removes the socket directory", async () => {
    const runner = recordingRunner();
    const shell = sshShell(await settings(), { runner });
    await shell.run(node, ["true"]);
    await shell.run(node, ["true"]);
    const controlPath = runner.calls[0]?.args.find((a) => a.startsWith("ControlPath="))?.slice("ControlPath=".length) ?? "";
    const dir = join(controlPath, "..");
    expect(existsSync(dir)).toBe(true);
    await shell.close();
    const exits = runner.calls.filter((c) => c.args.includes("-O"));
    expect(exits).toHaveLength(1);
    expect(exits[0]?.args).toEqual(["-o", `ControlPath=${controlPath}`, "-p", "2222", "-O", "exit", "--", "pi@198.18.0.11"]);
    expect(existsSync(dir)).toBe(false);
  });
});
