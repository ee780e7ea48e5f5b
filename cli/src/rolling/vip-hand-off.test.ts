import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { vipHandAwayScript, vipReleaseScript } from "./vip-hand-off.js";

const target = { vip: "192.168.1.250", port: 80, lbService: "pifleet_lb", handAwayFile: "/run/keepalived-hand-away" };
const RULE = "PREROUTING -d 192.168.1.250/32 -p tcp --dport 80 --syn -m comment --comment pifleet-vip-hand-away -j DROP";

const parses = (script: string) => spawnSync("sh", ["-n", "-c", script]).status;

describe("vipHandAwayScript", () => {
  const script = vipHandAwayScript(target);

  it("is valid sh", () => {
    expect(parses(script)).toBe(0);
  });

  it("holds new connections, drains HAProxy, and only then stops keepalived", () => {
    const order = ["touch /run/keepalived-hand-away", "iptables -t raw -I $rule", "docker stop --time 2", "systemctl stop keepalived"];
    const at = order.map((s) => script.indexOf(s));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(script).toContain(`rule='${RULE}'`);
  });

  it("lifts the hold again when keepalived keeps the VIP", () => {
    expect(script).toMatch(/still on this node[\s\S]*exit 1/);
    expect(script.indexOf("iptables -t raw -D $rule")).toBeGreaterThan(script.indexOf("systemctl stop keepalived"));
  });
});

describe("vipReleaseScript", () => {
  it("removes the hand-away file and the same rule, and starts keepalived", () => {
    const script = vipReleaseScript(target);
    expect(parses(script)).toBe(0);
    expect(script).toContain(`rule='${RULE}'`);
    expect(script).toContain("rm -f /run/keepalived-hand-away");
    expect(script).toContain("while iptables -t raw -D $rule");
    expect(script).toContain("systemctl start keepalived");
  });
});
