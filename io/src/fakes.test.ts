import { OperationError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { recordingRunner, recordingShell } from "./fakes.js";
import { Secret } from "./secret.js";
import { NodeCommandError } from "./ssh.js";

const node = { name: "pi1", address: "198.18.0.11" };

describe("recordingRunner", () => {
  it("records calls and answers unscripted ones with success", async () => {
    const runner = recordingRunner();
    expect(await runner.run("docker", ["ps"], { cwd: "/tmp", input: new Secret("pw-123456") })).toEqual({
      stdout: "",
      stderr: "",
      code: 0,
    });
    expect(runner.calls).toEqual([{ program: "docker", args: ["ps"], cwd: "/tmp", input: "pw-123456" }]);
  });

  it("answers from the script and fails non-zero answers like the real runner", async () => {
    const runner = recordingRunner((call) => (call.args[0] === "inspect" ? { code: 1, stderr: "No such object" } : { stdout: "id\n" }));
    expect((await runner.run("docker", ["images"])).stdout).toBe("id\n");
    await expect(runner.run("docker", ["inspect", "x"])).rejects.toThrow(OperationError);
    await expect(runner.run("docker", ["inspect", "x"])).rejects.toThrow(/docker inspect x failed \(exit 1\): No such object/);
    expect((await runner.run("docker", ["inspect", "x"], { allowFailure: true })).code).toBe(1);
  });

  it("records both sides of a pipe", async () => {
    const runner = recordingRunner();
    await runner.pipe(["docker", ["save", "a"]], ["ssh", ["n", "docker load"]]);
    expect(runner.calls.map((c) => c.program)).toEqual(["docker", "ssh"]);
  });
});

describe("recordingShell", () => {
  it("records runs, scripts and pipes with node and root", async () => {
    const shell = recordingShell((call) => (call.argv?.[0] === "hostname" ? "pi1\n" : undefined));
    expect((await shell.run(node, ["hostname"])).stdout).toBe("pi1\n");
    await shell.script(node, "echo hi", { root: true });
    await shell.pipeTo(node, ["docker", ["save", "a"]], ["docker", "load"]);
    await shell.close();
    expect(shell.calls).toEqual([
      { node: "pi1", argv: ["hostname"], root: false },
      { node: "pi1", script: "echo hi", root: true },
      { node: "pi1", local: ["docker", ["save", "a"]], argv: ["docker", "load"], root: false },
    ]);
    expect(shell.closed).toBe(true);
  });

  it("fails a non-zero answer as a NodeCommandError", async () => {
    const shell = recordingShell(() => ({ code: 2, stderr: "boom" }));
    const err = await shell.run(node, ["docker", "ps"], { describe: "list containers" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeCommandError);
    expect((err as Error).message).toBe("on pi1: list containers failed (exit 2): boom");
  });
});
