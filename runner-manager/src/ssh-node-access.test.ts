import { EnvironmentError } from "@pifleet/fleet";
import { recordingShell } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { SshNodeAccess } from "./ssh-node-access.js";
import { testFleet } from "./test-support/fleet-fixture.js";

/** SshNodeAccess over a recording node shell: what runs where and as whom, and how failures read. The real SSH path is runners.itest.ts. */

const fleet = testFleet();
const CONFIG = 'concurrent = 2\n[[runners]]\nname = "pifleet testfleet/pi1/docker"\ntoken = "glrt-secretsecretsecret"\n';

function access(respond: NonNullable<Parameters<typeof recordingShell>[0]> = () => undefined) {
  const shell = recordingShell(respond);
  return { shell, nodes: new SshNodeAccess(fleet, shell) };
}

describe("SshNodeAccess", () => {
  it("writes config.toml as root with the text on stdin, never in the command", async () => {
    const { shell, nodes } = access();
    await nodes.writeConfig("pi1", CONFIG);
    const [call] = shell.calls;
    expect(call).toMatchObject({ node: "pi1", root: true, input: CONFIG });
    expect(call?.script).not.toContain("glrt-");
    expect(call?.script).toContain("chmod 0600");
  });

  it("reads the config, the pending rotations, gitlab-runner's system_id and whether it runs in one call; no file is null", async () => {
    const { nodes } = access(
      () => "<<pifleet:no-config>>\n<<pifleet:pending>>\n12\n13\n<<pifleet:system-id>>\n<<pifleet:service>>\ninactive\n",
    );
    expect(await nodes.read("pi2")).toEqual({ configText: null, pendingRotation: [12, 13], runnerActive: false });
    const withFile = access(() => `${CONFIG}<<pifleet:pending>>\n<<pifleet:system-id>>\ns_0123456789ab\n<<pifleet:service>>\nactive\n`);
    expect(await withFile.nodes.read("pi2")).toEqual({
      configText: CONFIG,
      pendingRotation: [],
      systemId: "s_0123456789ab",
      runnerActive: true,
    });
    // Anything else in that file is not sent to GitLab as a system_id.
    const odd = access(() => `${CONFIG}<<pifleet:pending>>\n<<pifleet:system-id>>\ns_1; rm -rf /\n<<pifleet:service>>\nactive\n`);
    expect(await odd.nodes.read("pi2")).toEqual({ configText: CONFIG, pendingRotation: [], runnerActive: true });
  });

  it("leaves a deferred restart to a transient systemd timer on the node, as root, once: a pending one is kept", async () => {
    const { shell, nodes } = access();
    await nodes.restartLater("pi2", 30);
    const [call] = shell.calls;
    expect(call).toMatchObject({ node: "pi2", root: true });
    expect(call?.script).toContain("! systemctl is-active --quiet pifleet-runner-restart.timer");
    expect(call?.script).toContain(
      "systemd-run --quiet --collect --unit=pifleet-runner-restart --on-active=30s --timer-property=AccuracySec=1s systemctl try-restart gitlab-runner",
    );
  });

  it("names the node and how SSH failed, or which action failed, with tokens scrubbed", async () => {
    const down = access(() => ({ code: 255, stderr: "ssh: connect to host 198.18.0.12 port 22: Connection refused" }));
    await expect(down.nodes.read("pi2")).rejects.toThrow(
      "pi2: ssh pi@198.18.0.12:22: ssh: connect to host 198.18.0.12 port 22: Connection refused",
    );
    const refused = access(() => ({ code: 1, stderr: "mv: cannot move glrt-secretsecretsecret: Read-only file system" }));
    await expect(refused.nodes.writeConfig("pi1", CONFIG)).rejects.toThrow(
      "pi1: write /etc/gitlab-runner/config.toml failed (exit 1): mv: cannot move [redacted]: Read-only file system",
    );
  });

  it("lets an environment problem (an unreadable known_hosts) stop the run instead of passing for an unreachable node", async () => {
    const broken = new SshNodeAccess(fleet, {
      ...recordingShell(),
      script: async () => {
        throw new EnvironmentError("cannot read /etc/pifleet/known_hosts: EACCES");
      },
    });
    await expect(broken.read("pi1")).rejects.toBeInstanceOf(EnvironmentError);
  });
});
