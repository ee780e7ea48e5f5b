import { fileURLToPath } from "node:url";
import { loadFleetFile } from "@pifleet/fleet";
import { recordingShell } from "@pifleet/io";
import { describe, expect, it } from "vitest";
import { HAND_OFF_KINDS } from "./hand-offs.js";

// The reference fleet: load balancers on pi1 and pi4, VIP 192.168.1.250. Nothing is contacted: the shell is scripted.
const EXAMPLE = fileURLToPath(new URL("../../../examples/fleet.yaml", import.meta.url));
const vipKind = () => {
  const kind = HAND_OFF_KINDS.find((k) => k.what === "lb-vip");
  if (!kind) throw new Error("no lb-vip hand-off registered");
  return kind;
};

/** `hostname -I` on the reference fleet's load balancers while pi1 holds the VIP. */
const holdsOnPi1 = (node: string) => (node === "pi1" ? "192.168.1.11 192.168.1.250 \n" : "192.168.1.14 \n");

describe("the lb-vip hand-off", () => {
  it("finds the holder by its addresses, checks a peer can take the VIP, drains and hands it away as root, and waits until the peer has it", async () => {
    const { fleet } = await loadFleetFile(EXAMPLE);
    let moved = false;
    const shell = recordingShell((call) => {
      if (call.script?.includes("systemctl stop keepalived")) {
        moved = true;
        return "load balancer drained in 120 ms, VIP released 40 ms later\n";
      }
      if (call.argv?.[0] !== "hostname") return undefined;
      const onPi1 = !moved;
      return call.node === (onPi1 ? "pi1" : "pi4") ? "192.168.1.11 192.168.1.250 \n" : "192.168.1.14 \n";
    });
    const vip = vipKind().create(fleet, shell);
    expect(await vip.holder()).toBe("pi1");
    expect(await vip.handAway("pi1")).toMatch(/^load balancer drained in 120 ms, VIP released 40 ms later; on pi4 after \d+ ms$/);
    expect(await vip.holder()).toBe("pi4");
    await vip.release("pi1");
    const scripts = shell.calls.filter((c) => c.script).map((c) => ({ node: c.node, root: c.root, script: c.script }));
    expect(scripts.map((c) => `${c.node} root ${c.root}`)).toEqual(["pi4 root false", "pi1 root true", "pi1 root true"]);
    expect(scripts[0]?.script).toContain("curl --fail --silent --output /dev/null --max-time 2 http://127.0.0.1:8404/healthz");
    expect(scripts[1]?.script).toContain("--dport 80 --syn");
    expect(scripts[1]?.script).toContain("com.docker.swarm.service.name=pifleet_lb");
    expect(scripts[2]?.script).toContain("systemctl start keepalived");
  });

  it("touches nothing and fails when no other load balancer could take the VIP from one that serves", async () => {
    const { fleet } = await loadFleetFile(EXAMPLE);
    const shell = recordingShell((call) =>
      call.argv?.[0] === "hostname"
        ? holdsOnPi1(call.node)
        : call.script?.includes("is-active") && call.node !== "pi1"
          ? { code: 3 }
          : undefined,
    );
    await expect(vipKind().create(fleet, shell).handAway("pi1")).rejects.toThrow(/no other load balancer can take 192.168.1.250 from pi1/);
    expect(shell.calls.filter((c) => c.root)).toEqual([]);
  });

  it("does nothing on a node that does not hold the VIP", async () => {
    const { fleet } = await loadFleetFile(EXAMPLE);
    const shell = recordingShell((call) =>
      call.argv?.[0] === "hostname" ? (call.node === "pi4" ? "192.168.1.14 192.168.1.250\n" : "192.168.1.11\n") : undefined,
    );
    expect(await vipKind().create(fleet, shell).handAway("pi1")).toBeUndefined();
    expect(shell.calls.filter((c) => c.script)).toEqual([]);
  });

  it("leaves the VIP where it is when no load balancer answers anywhere (the stack is not deployed yet)", async () => {
    const { fleet } = await loadFleetFile(EXAMPLE);
    const shell = recordingShell((call) =>
      call.argv?.[0] === "hostname" ? holdsOnPi1(call.node) : call.script?.includes("is-active") ? { code: 3 } : undefined,
    );
    expect(await vipKind().create(fleet, shell).handAway("pi1")).toMatch(/^not moved: no load balancer answers/);
    expect(shell.calls.filter((c) => c.root)).toEqual([]);
  });
});
