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

describe("the lb-vip hand-off", () => {
  it("finds the holder by its addresses, touches keepalived's hand-away file and waits until a peer has the VIP", async () => {
    const { fleet } = await loadFleetFile(EXAMPLE);
    let moved = false;
    const shell = recordingShell((call) => {
      if (call.argv?.[0] === "touch") moved = true;
      if (call.argv?.[0] !== "hostname") return undefined;
      const onPi1 = !moved;
      return call.node === (onPi1 ? "pi1" : "pi4") ? "192.168.1.11 192.168.1.250 \n" : "192.168.1.14 \n";
    });
    const vip = vipKind().create(fleet, shell);
    expect(await vip.holder()).toBe("pi1");
    await vip.handAway("pi1");
    expect(await vip.holder()).toBe("pi4");
    await vip.release("pi1");
    const changes = shell.calls.filter((c) => c.argv?.[0] !== "hostname").map((c) => `${c.node}: ${c.argv?.join(" ")} (root ${c.root})`);
    expect(changes).toEqual(["pi1: touch /run/keepalived-hand-away (root true)", "pi1: rm -f /run/keepalived-hand-away (root true)"]);
  });
});
