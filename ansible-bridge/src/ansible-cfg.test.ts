import { describe, expect, it } from "vitest";
import { renderAnsibleCfg } from "./ansible-cfg.js";

const input = {
  rolesPath: "/repo/ansible-bridge/ansible/roles",
  callbackPluginsPath: "/repo/ansible-bridge/ansible/callback_plugins",
  knownHosts: "/fleet/known_hosts",
  nodeCount: 3,
  factCacheDir: "/work/.pifleet/ansible/facts",
  controlPathDir: "/work/.pifleet/ansible/cp",
};
const setting = (cfg: string, key: string) => cfg.match(new RegExp(`^${key} = (.*)$`, "m"))?.[1];

describe("renderAnsibleCfg", () => {
  it("checks host keys strictly against the fleet's known_hosts only", () => {
    const cfg = renderAnsibleCfg(input);
    expect(setting(cfg, "host_key_checking")).toBe("True");
    expect(setting(cfg, "ssh_args")).toContain(
      `-o StrictHostKeyChecking=yes -o 'UserKnownHostsFile="/fleet/known_hosts"' -o GlobalKnownHostsFile=/dev/null`,
    );
  });

  it("quotes the known_hosts path for Ansible's split and for ssh's, so a path with a space stays one file", () => {
    const cfg = renderAnsibleCfg({ ...input, knownHosts: "/home/pi/my keys/known_hosts" });
    expect(setting(cfg, "ssh_args")).toContain(`-o 'UserKnownHostsFile="/home/pi/my keys/known_hosts"'`);
  });

  it("is tuned for speed: pipelining, ControlPersist, cached facts, forks at least the node count", () => {
    const cfg = renderAnsibleCfg(input);
    expect(setting(cfg, "pipelining")).toBe("True");
    expect(setting(cfg, "ssh_args")).toContain("ControlPersist=");
    expect(setting(cfg, "gathering")).toBe("smart");
    expect(setting(cfg, "fact_caching_connection")).toBe("/work/.pifleet/ansible/facts");
    expect(setting(cfg, "forks")).toBe("5");
    expect(setting(renderAnsibleCfg({ ...input, nodeCount: 40 }), "forks")).toBe("40");
  });

  it("streams events through pifleet's JSONL callback", () => {
    const cfg = renderAnsibleCfg(input);
    expect(setting(cfg, "stdout_callback")).toBe("pifleet_jsonl");
    expect(setting(cfg, "callback_plugins")).toBe(input.callbackPluginsPath);
  });
});
