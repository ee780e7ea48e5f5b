import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createProgress } from "./progress.js";

/** A non-TTY stream (as in CI logs) that keeps what was written. */
function captured(): { stream: NodeJS.WriteStream; lines: () => string[] } {
  let text = "";
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  const lines = () =>
    text
      .split("\n")
      .filter(Boolean)
      .map((l) => l.replace(/^\S+ /, ""));
  return { stream, lines };
}

describe("progress without a terminal", () => {
  it("writes each status once, timestamped, and logs every line", () => {
    const { stream, lines } = captured();
    const progress = createProgress({ stream });
    for (const m of ["docker : flush handlers", "docker : flush handlers", "docker : flush handlers", "swarm : join"]) progress.update(m);
    progress.log("a warning");
    progress.log("a warning");
    expect(lines()).toEqual(["docker : flush handlers", "swarm : join", "a warning", "a warning"]);
  });
});
