import { describe, expect, it } from "vitest";
import { MASKED, maskingStream } from "./masking.js";

/** Feeds the chunks through a masking stream and returns what came out, and in how many pieces. */
function masked(values: string[], chunks: string[]): { text: string; pieces: string[] } {
  const pieces: string[] = [];
  const stream = maskingStream(values, (t) => pieces.push(t));
  for (const c of chunks) stream.write(c);
  stream.end();
  return { text: pieces.join(""), pieces };
}

const SECRET = "s3cr3t-VALUE-42";

describe("maskingStream", () => {
  it("replaces a value inside one chunk", () => {
    expect(masked([SECRET], [`token is ${SECRET} ok\n`]).text).toBe(`token is ${MASKED} ok\n`);
  });

  it("replaces a value split across chunks at every possible point", () => {
    const line = `before ${SECRET} after\n`;
    for (let i = 1; i < line.length; i++) {
      expect(masked([SECRET], [line.slice(0, i), line.slice(i)]).text).toBe(`before ${MASKED} after\n`);
    }
  });

  it("replaces a value arriving one character at a time", () => {
    const line = `${SECRET}${SECRET} and ${SECRET}`;
    expect(masked([SECRET], [...line]).text).toBe(`${MASKED}${MASKED} and ${MASKED}`);
  });

  it("masks the longer of two values that share a start, whole", () => {
    const short = "abcd1234";
    const long = "abcd1234xyz99";
    expect(masked([short, long], ["x abcd1234x", "yz99 y abcd1234 z"]).text).toBe(`x ${MASKED} y ${MASKED} z`);
  });

  it("passes text without values through unchanged and holds back no more than a value's length", () => {
    const { text, pieces } = masked([SECRET], ["hello world, this is a long line\n", "second\n"]);
    expect(text).toBe("hello world, this is a long line\nsecond\n");
    // The first chunk is mostly out before the second arrives.
    expect(pieces[0]?.length).toBeGreaterThanOrEqual("hello world, this is a long line\n".length - (SECRET.length - 1));
  });

  it("emits everything at once when nothing is masked", () => {
    expect(masked([], ["a", "b"]).pieces).toEqual(["a", "b"]);
    expect(masked([""], ["a"]).text).toBe("a");
  });

  it("treats values as text, not patterns", () => {
    expect(masked(["a.b*c+d?(e)"], ["x a.b*c+d?(e) y aXbbbcd"]).text).toBe(`x ${MASKED} y aXbbbcd`);
  });
});
