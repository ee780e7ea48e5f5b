import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

// The command ansible.builtin.reboot compares before and after a reboot (rolling.yml), run as the
// node runs it but on stand-in copies of the two /proc files it reads.
const playbook = parse(readFileSync(new URL("../ansible/rolling.yml", import.meta.url), "utf8")) as [{ vars: Record<string, string> }];
const command = playbook[0].vars.rolling_boot_time_command as string;
const BOOT_ID = "/proc/sys/kernel/random/boot_id";
const PID1_STAT = "/proc/1/stat";

/** PID 1's stat line with its start time (field 22) set to `ticks`. */
const stat = (ticks: number) => `1 (systemd) S 0 1 1 0 -1 4194560 100 200 0 0 5 6 7 8 20 0 1 0 ${ticks} 170000000 3000\n`;

function bootMark(bootId: string, ticks: number): string {
  const dir = mkdtempSync(join(tmpdir(), "boot-mark-"));
  writeFileSync(join(dir, "boot_id"), `${bootId}\n`);
  writeFileSync(join(dir, "stat"), stat(ticks));
  const local = command.replace(BOOT_ID, join(dir, "boot_id")).replace(PID1_STAT, join(dir, "stat"));
  return execFileSync("sh", ["-c", local], { encoding: "utf8" }).trim();
}

describe("rolling.yml's boot mark", () => {
  it("reads the kernel's boot id and PID 1's start time", () => {
    expect(command).toContain(BOOT_ID);
    expect(command).toContain(PID1_STAT);
    expect(bootMark("0b2c", 812)).toBe("0b2c 812");
  });

  it("changes on a Pi's reboot even when PID 1 starts at the same tick", () => {
    expect(bootMark("after-boot", 812)).not.toBe(bootMark("before-boot", 812));
  });

  it("changes on a sim node's reboot, whose boot id is the host kernel's", () => {
    expect(bootMark("host-kernel", 90_112)).not.toBe(bootMark("host-kernel", 81_540));
  });
});
