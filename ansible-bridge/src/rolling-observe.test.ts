import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

describe("observeScript, run by a shell", () => {
  // apt-get itself is a stand-in (a script on PATH): what matters is what the node's shell makes of its answers.
  function observeWith(aptGet: string): string {
    const bin = mkdtempSync(join(tmpdir(), "apt-stub-"));
    writeFileSync(join(bin, "apt-get"), `#!/bin/sh\n${aptGet}\n`, { mode: 0o755 });
    return execFileSync("bash", ["-c", observeScript(true)], { encoding: "utf8", env: { PATH: `${bin}:${process.env.PATH}`, HOME: bin } });
  }

  it("lists what apt would upgrade", () => {
    const out = observeWith(
      '[ "$1" = -s ] && printf "Inst libc6 [2.36-9] (2.36-9+deb12u9 Debian:12.9/stable [arm64])\\nConf libc6\\n"; exit 0',
    );
    expect(parseObservation("pi1", out)).toMatchObject({ upgradable: ["libc6"] });
    expect(parseObservation("pi1", out).aptError).toBeUndefined();
  });

  it("says when apt fails, instead of an empty list that reads as nothing to upgrade", () => {
    const out = observeWith(
      '[ "$1" = update ] && { echo "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease"; exit 100; }; exit 0',
    );
    expect(parseObservation("pi1", out).aptError).toBe(
      "apt-get update failed: E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease",
    );
    const locked = observeWith('[ "$1" = -s ] && { echo "E: Could not get lock /var/lib/dpkg/lock-frontend"; exit 100; }; exit 0');
    expect(parseObservation("pi1", locked)).toMatchObject({ upgradable: [], aptError: expect.stringContaining("Could not get lock") });
  });
});
