import { describe, expect, it } from "vitest";
import { isValidPageKey } from "./keys.js";

describe("isValidPageKey", () => {
  it.each(["home", "a", "blog-post_1", "x".repeat(64)])("accepts %s", (key) => {
    expect(isValidPageKey(key)).toBe(true);
  });
  it.each(["", "Home", "-lead", "_lead", "a/b", "a b", "ä", "a%20b", "x".repeat(65), "home/", "..", "a:b"])("refuses %j", (key) => {
    expect(isValidPageKey(key)).toBe(false);
  });
});
