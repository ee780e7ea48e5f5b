import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvironmentError, OperationError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { eachLine, linesMatching, processRunner, run } from "./process.js";
import { Secret } from "./secret.js";

describe("run", () => {
  it("passes arguments as they are, without a shell interpreting them", async () => {
    const words = ["$HOME", "it's", "a b", "`id`", "", "*"];
    const r = await run("printf", ["%s|", ...words]);
    expect(r).toEqual({ stdout: `${words.join("|")}|`, stderr: "", code: 0 });
  });

  it("writes input to stdin: text, bytes and secrets", async () => {
    expect((await run("cat", [], { input: "hello\n" })).stdout).toBe("hello\n");
    expect((await run("wc", ["-c"], { input: Buffer.from([0, 1, 2, 255]) })).stdout.trim()).toBe("4");
    expect((await run("cat", [], { input: new Secret("s3cret-token") })).stdout).toBe("s3cret-token");
  });

  it("a program that exits without reading its input ends normally (no EPIPE crash)", async () => {
    // More than a pipe's buffer, so the unread rest cannot be written.
    for (let i = 0; i < 5; i++) expect((await run("true", [], { input: "x".repeat(1_000_000) })).code).toBe(0);
  });

  it("closes stdin when there is no input, so readers do not wait", async () => {
    expect((await run("cat", [], { timeoutMs: 5_000 })).stdout).toBe("");
  });

  it("uses cwd and env", async () => {
    const dir = await mkdtemp(join(tmpdir(), "io-run-"));
    expect((await run("pwd", [], { cwd: dir })).stdout.trim()).toBe(dir);
    expect((await run("sh", ["-c", 'printf %s "$GREETING"'], { env: { ...process.env, GREETING: "hi" } })).stdout).toBe("hi");
  });

  it("a missing program is an EnvironmentError (exit 3) saying it is not installed", async () => {
    const err = await run("pifleet-no-such-program", ["x"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as EnvironmentError).exitCode).toBe(3);
    expect((err as Error).message).toBe("pifleet-no-such-program is not installed");
  });

  it("a program that itself exits 127 is a failure, not 'not installed'", async () => {
    const err = await run("sh", ["-c", "echo 'docker: not found' >&2; exit 127"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect((err as Error).message).toMatch(/failed \(exit 127\): docker: not found/);
  });

  it("a non-zero exit is an OperationError with the end of stderr, tokens scrubbed", async () => {
    const script = "echo early >&2; echo 'denied for glpat-abcdefghijklmnopqr and s3cret-token' >&2; exit 4";
    const err = await run("sh", ["-c", script], { input: new Secret("s3cret-token"), describe: "the check" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    const message = (err as Error).message;
    expect(message).toMatch(/^the check failed \(exit 4\): early\ndenied for \[redacted\] and \[redacted\]$/);
  });

  it("names the command by its first arguments when not described", async () => {
    await expect(run("sh", ["-c", "exit 2", "a", "b", "c"])).rejects.toThrow(/^sh -c exit 2 a b … failed \(exit 2\)/);
  });

  it("returns a non-zero exit with allowFailure", async () => {
    const r = await run("sh", ["-c", "echo out; echo err >&2; exit 3"], { allowFailure: true });
    expect(r).toEqual({ stdout: "out\n", stderr: "err\n", code: 3 });
  });

  it("reports output chunks as they come", async () => {
    const chunks: string[] = [];
    await run("sh", ["-c", "echo one; echo two >&2"], { onOutput: (c) => chunks.push(c) });
    expect(chunks.join("").split("\n").sort()).toEqual(["", "one", "two"]);
  });

  it("reports stdout and stderr apart as they come, while keeping both in the result", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const r = await run("sh", ["-c", "echo one; echo two >&2; echo three"], { onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) });
    expect(out.join("")).toBe("one\nthree\n");
    expect(err.join("")).toBe("two\n");
    expect(r).toEqual({ stdout: "one\nthree\n", stderr: "two\n", code: 0 });
  });

  it("stops a command when its signal aborts, even with allowFailure", async () => {
    const controller = new AbortController();
    const start = Date.now();
    setTimeout(() => controller.abort(), 200);
    const err = await run("sleep", ["30"], { signal: controller.signal, allowFailure: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect((err as Error).message).toBe("sleep 30 was stopped: its run was aborted");
    expect(Date.now() - start).toBeLessThan(5_000);
  });

  it("a signal that never aborts changes nothing", async () => {
    expect((await run("echo", ["done"], { signal: new AbortController().signal })).stdout).toBe("done\n");
  });

  it("kills a command that runs past its timeout, even with allowFailure", async () => {
    const start = Date.now();
    await expect(run("sleep", ["30"], { timeoutMs: 200, allowFailure: true })).rejects.toThrow(/sleep 30 timed out after 0.2 s/);
    expect(Date.now() - start).toBeLessThan(5_000);
  });
});

describe("pipe", () => {
  it("streams one program's stdout into another's stdin, bytes intact", async () => {
    const r = await processRunner.pipe(["head", ["-c", "3000000", "/dev/zero"]], ["wc", ["-c"]]);
    expect(r.stdout.trim()).toBe("3000000");
    expect(r.code).toBe(0);
  });

  it("feeds input to the first program", async () => {
    expect((await processRunner.pipe(["cat", []], ["tr", ["a-z", "A-Z"]], { input: "abc" })).stdout).toBe("ABC");
  });

  it("fails when the first program fails, naming it", async () => {
    const err = await processRunner.pipe(["sh", ["-c", "echo no image >&2; exit 1"]], ["cat", []]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect((err as Error).message).toMatch(/sh \(exit 1\): no image/);
  });

  it("fails when the second program fails, without hanging the first", async () => {
    const producer = ["sh", ["-c", "while :; do echo data; done"]] as const;
    const err = await processRunner
      .pipe(producer, ["sh", ["-c", "echo load failed >&2; exit 5"]], { describe: "load" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect((err as Error).message).toMatch(/^load failed: .*sh \(exit 5\): load failed/);
  });

  it("reports the consumer's stdout and both sides' stderr apart", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const producer = ["sh", ["-c", "echo made >&2; echo data"]] as const;
    const consumer = ["sh", ["-c", "cat; echo used >&2"]] as const;
    await processRunner.pipe(producer, consumer, { onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) });
    expect(out.join("")).toBe("data\n");
    expect(err.join("").split("\n").sort()).toEqual(["", "made", "used"]);
  });

  it("stops both programs when its signal aborts", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    await expect(processRunner.pipe(["sleep", ["30"]], ["cat", []], { signal: controller.signal, describe: "the copy" })).rejects.toThrow(
      "the copy was stopped: its run was aborted",
    );
  });

  it("a missing program is an EnvironmentError", async () => {
    await expect(processRunner.pipe(["echo", ["x"]], ["pifleet-no-such-program", []])).rejects.toThrow(EnvironmentError);
    await expect(processRunner.pipe(["pifleet-no-such-program", []], ["cat", []])).rejects.toThrow(
      /pifleet-no-such-program is not installed/,
    );
  });
});

describe("eachLine", () => {
  it("reports every line once complete, across chunk borders and without \\r\\n; flush reports the unterminated rest", () => {
    const seen: string[] = [];
    const onStdout = eachLine((line) => seen.push(line));
    for (const chunk of ["one\r\ntw", "o\n\nthr", "ee"]) onStdout(chunk);
    expect(seen).toEqual(["one", "two", ""]);
    onStdout.flush();
    onStdout.flush();
    expect(seen).toEqual(["one", "two", "", "three"]);
  });

  it("streams a real program's lines as they come", async () => {
    const seen: string[] = [];
    const lines = eachLine((line) => seen.push(line));
    await run("sh", ["-c", "printf 'a\\nb\\nc'"], { onStdout: lines });
    lines.flush();
    expect(seen).toEqual(["a", "b", "c"]);
  });
});

describe("linesMatching", () => {
  it("reports complete matching lines across chunk borders", () => {
    const seen: string[] = [];
    const onOutput = linesMatching(/^step (\d+)$/, (m) => seen.push(m[1] ?? ""));
    for (const chunk of ["step 1\nst", "ep 2\nnoise\n", "step 3"]) onOutput(chunk);
    expect(seen).toEqual(["1", "2"]);
  });
});
