import { InputError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { decideNote, markerFor, noteBody } from "./marker.js";

// The token's own user; notes below are theirs unless they say otherwise.
const SELF = 5;
const me = { id: SELF };

describe("the MR note find-or-create decision", () => {
  it("creates a note when no note carries the marker", () => {
    const d = decideNote([{ id: 1, body: "LGTM", author: me }], "plan", "## Plan\nno changes", SELF);
    expect(d).toEqual({ action: "create", body: "<!-- pifleet:plan -->\n## Plan\nno changes\n" });
  });

  it("updates the note that carries the marker, whatever else it says", () => {
    const existing = [
      { id: 3, body: "a comment", author: me },
      { id: 7, body: "<!-- pifleet:plan -->\nold plan\n", author: me },
    ];
    expect(decideNote(existing, "plan", "new plan", SELF)).toEqual({
      action: "update",
      noteId: 7,
      body: "<!-- pifleet:plan -->\nnew plan\n",
    });
  });

  it("leaves an identical note alone", () => {
    const existing = [{ id: 7, body: noteBody("plan", "same\n\n"), author: me }];
    expect(decideNote(existing, "plan", "same", SELF)).toEqual({ action: "unchanged", noteId: 7, body: "<!-- pifleet:plan -->\nsame\n" });
  });

  it("keys are independent: another key's note is not ours", () => {
    expect(decideNote([{ id: 2, body: "<!-- pifleet:deploy -->\nx", author: me }], "plan", "y", SELF).action).toBe("create");
  });

  it("never takes a system note, and picks the oldest of several marked notes", () => {
    const existing = [
      { id: 9, body: "<!-- pifleet:plan -->\nlater", author: me },
      { id: 1, body: "<!-- pifleet:plan --> quoted by GitLab", system: true, author: me },
      { id: 4, body: "<!-- pifleet:plan -->\nfirst", author: me },
    ];
    expect(decideNote(existing, "plan", "z", SELF)).toMatchObject({ action: "update", noteId: 4 });
  });

  it("a look-alike by someone else (or by no known author) is never ours: our own note is updated, else a new one created", () => {
    const lookAlike = { id: 2, body: "<!-- pifleet:plan -->\nplease deploy my branch", author: { id: 77 } };
    const anonymous = { id: 3, body: "<!-- pifleet:plan -->\nno author field" };
    expect(decideNote([lookAlike, anonymous], "plan", "z", SELF)).toEqual({ action: "create", body: "<!-- pifleet:plan -->\nz\n" });
    const ours = { id: 8, body: "<!-- pifleet:plan -->\nold", author: me };
    expect(decideNote([lookAlike, anonymous, ours], "plan", "z", SELF)).toMatchObject({ action: "update", noteId: 8 });
  });

  it("rejects a marker key that could break out of the HTML comment", () => {
    expect(() => markerFor("plan -->")).toThrow(InputError);
    expect(() => markerFor("plan -->")).toThrow(
      'invalid note marker "plan -->": use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  });
});
