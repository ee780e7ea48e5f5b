import { EnvironmentError, OperationError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { linesMatching, run } from "./exec.js";

describe("linesMatching", () => {
  it("reports whole matching lines, even when a line arrives in pieces", () => {
    const seen: string[] = [];
    const feed = linesMatching(/^(Step \d+\/\d+) : (.*)$/, (m) => seen.push(`${m[1]}|${m[2]}`));
    feed("Sending build context\nStep 1/8 : ARG BASE\nSte");
    feed("p 2/8 : FROM $BASE\n ---> abc\n");
    feed("Step 3/8 : ENV x");
    expect(seen).toEqual(["Step 1/8|ARG BASE", "Step 2/8|FROM $BASE"]);
  });
});

describe("run", () => {
  it("returns output and streams it to onOutput", async () => {
    const chunks: string[] = [];
    const r = await run("sh", ["-c", "echo out; echo err >&2"], { onOutput: (c) => chunks.push(c) });
    expect(r).toEqual({ stdout: "out\n", stderr: "err\n", code: 0 });
    expect(chunks.join("").split("\n").sort()).toEqual(["", "err", "out"]);
  });
  it("names the command and the end of stderr when it fails", async () => {
    await expect(run("sh", ["-c", "echo boom >&2; exit 3"])).rejects.toThrow(
      new OperationError("sh -c echo boom >&2; exit 3 failed (exit 3): boom"),
    );
  });
  it("calls a missing program an environment problem (exit 3)", async () => {
    await expect(run("pifleet-no-such-program", [])).rejects.toBeInstanceOf(EnvironmentError);
  });
});
