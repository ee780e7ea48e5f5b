import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shellJoin, shellQuote } from "./quote.js";

/** What /bin/sh (dash on Debian) makes of a command line: its words, NUL-separated by printf. */
function wordsAfterSh(line: string): string[] {
  const out = execFileSync("/bin/sh", ["-c", `printf '%s\\0' ${line}`], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

const nasty = [
  "",
  " ",
  "plain",
  "two words",
  "it's",
  "''",
  "\\",
  "$HOME",
  "$(touch /tmp/pwned)",
  "`id`",
  "a\nb",
  "tab\there",
  "*",
  "~root",
  "!event",
  "; rm -rf /",
  "x&&y||z",
  "{a,b}",
  "$'bash-only'",
  '"double"',
  "ünïcödé ✓",
  "-n",
  "--flag=value with space",
  "#comment",
  "a=b",
];

describe("shellQuote", () => {
  it.each(nasty)("round-trips %j through /bin/sh unchanged", (word) => {
    expect(wordsAfterSh(shellQuote(word))).toEqual([word]);
  });

  it("leaves plain words readable", () => {
    expect(shellQuote("docker")).toBe("docker");
    expect(shellQuote("/usr/bin/env")).toBe("/usr/bin/env");
    expect(shellQuote("key=value")).toBe("key=value");
  });

  it("never emits bash-only $'…' quoting", () => {
    for (const word of nasty) expect(shellQuote(word)).not.toMatch(/^\$'/);
  });
});

describe("shellJoin", () => {
  it("gives a line that /bin/sh splits back into exactly argv", () => {
    expect(wordsAfterSh(shellJoin(nasty))).toEqual(nasty);
  });
});
