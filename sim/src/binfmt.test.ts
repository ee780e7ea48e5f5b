import { describe, expect, it } from "vitest";
import { credentialsEntryLine } from "./binfmt.js";

const DEBIAN = `enabled
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
flags: PF
offset 0
magic 7f454c460201010000000000000000000200b700
mask ffffffffffffff00fffffffffffffffffeffffff
`;

describe("credentialsEntryLine", () => {
  it("copies magic, mask and interpreter and adds the O and C flags", () => {
    expect(credentialsEntryLine(DEBIAN)).toBe(
      ":pifleet-aarch64:M:0:\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:" +
        "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:" +
        "/usr/libexec/qemu-binfmt/aarch64-binfmt-P:CFOP",
    );
  });
  it("refuses an entry it cannot read", () => {
    expect(() => credentialsEntryLine("enabled\nflags: F\n")).toThrow("unexpected binfmt_misc entry");
  });
});
