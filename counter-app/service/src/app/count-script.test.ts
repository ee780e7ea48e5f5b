import { describe, expect, it } from "vitest";
import { countScriptOptions, NODES_KEY, PAGES_KEY, parseCountReply } from "./count-script.js";

const batch = new Map([
  ["home", 3],
  ["blog", 1],
]);

describe("the count script's arguments and reply", () => {
  it("sends the deadline, the page bound, the node with the batch's total, then each page with its views", () => {
    expect(countScriptOptions({ batch, node: "pi1", pagesMax: 1000, deadlineRedisMs: 1234.7 })).toEqual({
      keys: [PAGES_KEY, NODES_KEY],
      arguments: ["1234", "1000", "pi1", "4", "home", "3", "blog", "1"],
    });
  });

  it("reads the new counts in the order the pages were sent, and the pages evicted", () => {
    expect(parseCountReply([1, "13", "2"], batch)).toEqual({
      applied: true,
      evicted: 1,
      counts: new Map([
        ["home", 13],
        ["blog", 2],
      ]),
    });
  });

  it("reads nil as a batch Redis ran too late and did not apply", () => {
    expect(parseCountReply(null, batch)).toEqual({ applied: false });
  });

  it("refuses a reply of the wrong shape instead of handing out wrong counts", () => {
    expect(() => parseCountReply([0, "13"], batch)).toThrow(/unexpected reply/);
  });
});
