import { InputError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { decideNote, markerFor, noteBody } from "./marker.js";

describe("the MR note find-or-create decision", () => {
  it("creates a note when no note carries the marker", () => {
    const d = decideNote([{ id: 1, body: "LGTM" }], "plan", "## Plan\nno changes");
    expect(d).toEqual({ action: "create", body: "<!-- pifleet:plan -->\n## Plan\nno changes\n" });
  });

  it("updates the note that carries the marker, whatever else it says", () => {
    const existing = [
      { id: 3, body: "a comment" },
      { id: 7, body: "<!-- pifleet:plan -->\nold plan\n" },
    ];
    expect(decideNote(existing, "plan", "new plan")).toEqual({ action: "update", noteId: 7, body: "<!-- pifleet:plan -->\nnew plan\n" });
  });

  it("leaves an identical note alone", () => {
    const existing = [{ id: 7, body: noteBody("plan", "same\n\n") }];
    expect(decideNote(existing, "plan", "same")).toEqual({ action: "unchanged", noteId: 7, body: "<!-- pifleet:plan -->\nsame\n" });
  });

  it("keys are independent: another key's note is not ours", () => {
    expect(decideNote([{ id: 2, body: "<!-- pifleet:deploy -->\nx" }], "plan", "y").action).toBe("create");
  });

  it("never takes a system note, and picks the oldest of several marked notes", () => {
    const existing = [
      { id: 9, body: "<!-- pifleet:plan -->\nlater" },
      { id: 1, body: "<!-- pifleet:plan --> quoted by GitLab", system: true },
      { id: 4, body: "<!-- pifleet:plan -->\nfirst" },
    ];
    expect(decideNote(existing, "plan", "z")).toMatchObject({ action: "update", noteId: 4 });
  });

  it("rejects a marker key that could break out of the HTML comment", () => {
    expect(() => markerFor("plan -->")).toThrow(InputError);
    expect(() => markerFor("plan -->")).toThrow(
      'invalid note marker "plan -->": use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  });
});
