import { describe, expect, it } from "vitest";
import { observeScript, parseObservation } from "./rolling-observe.js";

describe("observeScript / parseObservation", () => {
  it("reads every marker, and the packages only when upgrading", () => {
    expect(observeScript(false)).toContain("test -e /var/run/reboot-required && echo reboot");
    expect(observeScript(false)).toContain("test -e /var/run/pifleet-redis-restart-required && echo redis");
    expect(observeScript(false)).not.toContain("apt-get");
    expect(observeScript(true)).toContain("apt-get -s -o Debug::NoLocking=1 dist-upgrade");
  });

  it("parses one finding a line", () => {
    expect(parseObservation("pi2", "reboot\npkg libc6\npkg openssl\n")).toEqual({
      node: "pi2",
      rebootRequired: true,
      dockerRestartRequired: false,
      redisRestartRequired: false,
      upgradable: ["libc6", "openssl"],
    });
    expect(parseObservation("pi3", "docker\n")).toMatchObject({ rebootRequired: false, dockerRestartRequired: true, upgradable: [] });
    expect(parseObservation("pi1", "redis\n")).toMatchObject({ dockerRestartRequired: false, redisRestartRequired: true });
  });
});
