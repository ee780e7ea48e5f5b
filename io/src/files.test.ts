import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OperationError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { holdFileLock, withFileLock, writeFileAtomic, writeFileAtomicSync, writeIfChanged } from "./files.js";

const scratch = () => mkdtemp(join(tmpdir(), "io-files-"));

describe("writeFileAtomic", () => {
  it("writes the whole file with the given mode and leaves no temp file", async () => {
    const dir = await scratch();
    const file = join(dir, "token");
    await writeFileAtomic(file, "secret\n", { mode: 0o600 });
    writeFileAtomicSync(join(dir, "state.json"), Buffer.from("{}"));
    expect(await readFile(file, "utf8")).toBe("secret\n");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).sort()).toEqual(["state.json", "token"]);
  });

  it("replaces, never appends", async () => {
    const file = join(await scratch(), "f");
    await writeFileAtomic(file, "a much longer first version");
    await writeFileAtomic(file, "short");
    expect(await readFile(file, "utf8")).toBe("short");
  });
});

describe("writeIfChanged", () => {
  it("leaves an equal file untouched (mtime kept) and writes a changed one", async () => {
    const file = join(await scratch(), "gen.yml");
    expect(await writeIfChanged(file, "one\n")).toBe(true);
    const old = new Date("2020-01-01T00:00:00Z");
    await utimes(file, old, old);
    expect(await writeIfChanged(file, "one\n")).toBe(false);
    expect((await stat(file)).mtime.getTime()).toBe(old.getTime());
    expect(await writeIfChanged(file, "two\n")).toBe(true);
    expect(await readFile(file, "utf8")).toBe("two\n");
  });
});

describe("withFileLock", () => {
  it("lets one holder in at a time", async () => {
    const lock = join(await scratch(), "sub", "run.lock");
    const events: string[] = [];
    const holder = (name: string) =>
      withFileLock(lock, async () => {
        events.push(`${name} in`);
        await new Promise((r) => setTimeout(r, 100));
        events.push(`${name} out`);
        return name;
      });
    expect(await Promise.all([holder("a"), holder("b")])).toEqual(["a", "b"]);
    expect(events.join(",")).toMatch(/^(a in,a out,b in,b out|b in,b out,a in,a out)$/);
  });

  it("gives up after timeoutMs with an error naming the lock", async () => {
    const lock = join(await scratch(), "run.lock");
    let release: () => void = () => {};
    const held = withFileLock(lock, () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 50));
    const err = await withFileLock(lock, async () => "never", { timeoutMs: 300 }).catch((e: unknown) => e);
    release();
    await held;
    expect(err).toBeInstanceOf(OperationError);
    expect((err as Error).message).toContain(lock);
  });

  it("releases the lock when fn throws", async () => {
    const lock = join(await scratch(), "run.lock");
    await expect(withFileLock(lock, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await withFileLock(lock, async () => "again", { timeoutMs: 500 })).toBe("again");
  });

  it("takes over a lock whose holder stopped refreshing it (it died)", async () => {
    const lock = join(await scratch(), "run.lock");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(lock);
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(lock, longAgo, longAgo);
    expect(await withFileLock(lock, async () => "taken over", { timeoutMs: 1_000 })).toBe("taken over");
  });
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn("true");
  await new Promise((r) => child.on("close", r));
  return child.pid ?? 0;
}

describe("holdFileLock", () => {
  it("holds until released; a second taker is refused while the owner lives", async () => {
    const lock = join(await scratch(), "gitlab.lock");
    const release = holdFileLock(lock);
    expect(await readFile(lock, "utf8")).toBe(`${process.pid}\n`);
    expect(() => holdFileLock(lock)).toThrow(new RegExp(`held by the running process ${process.pid}`));
    expect(() => holdFileLock(lock)).toThrow(OperationError);
    release();
    const again = holdFileLock(lock);
    again();
  });

  it("takes over a lock whose owner died", async () => {
    const lock = join(await scratch(), "gitlab.lock");
    await writeFile(lock, `${await deadPid()}\n`);
    const release = holdFileLock(lock);
    expect(await readFile(lock, "utf8")).toBe(`${process.pid}\n`);
    release();
    await expect(stat(lock)).rejects.toThrow(/ENOENT/);
  });

  it("release leaves someone else's lock alone", async () => {
    const lock = join(await scratch(), "gitlab.lock");
    const release = holdFileLock(lock);
    await writeFile(lock, "1\n");
    release();
    expect(await readFile(lock, "utf8")).toBe("1\n");
  });
});
