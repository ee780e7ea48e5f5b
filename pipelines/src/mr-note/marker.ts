import { InputError } from "@pifleet/fleet";

/** A note GitLab returned, as much of it as the decision needs. */
export interface ExistingNote {
  id: number;
  body: string;
  /** System notes ("added 1 commit") are GitLab's, never ours. */
  system?: boolean;
  /** Who wrote it: only a note by the token's own user can be ours. */
  author?: { id: number };
}

export type NoteDecision = { action: "create"; body: string } | { action: "update" | "unchanged"; noteId: number; body: string };

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The hidden HTML comment that identifies our note among all of an MR's notes. */
export function markerFor(key: string): string {
  if (!KEY.test(key)) {
    throw new InputError(`invalid note marker "${key}": use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
  return `<!-- pifleet:${key} -->`;
}

/** The note's full body: the marker first (invisible when rendered), then the report. */
export function noteBody(key: string, report: string): string {
  return `${markerFor(key)}\n${report.trimEnd()}\n`;
}

/**
 * Find-or-create: the oldest non-system note carrying the marker and written by `selfId` (the token's
 * own user) is ours and is updated (or left alone when identical); with none, a note is created.
 * The author check keeps anyone who pastes the marker into a comment from steering what pifleet
 * rewrites; their look-alike is left alone. Choosing the oldest keeps the decision stable even if a
 * duplicate ever appeared.
 */
export function decideNote(existing: readonly ExistingNote[], key: string, report: string, selfId: number): NoteDecision {
  const body = noteBody(key, report);
  const marker = markerFor(key);
  const ours = existing.filter((n) => !n.system && n.author?.id === selfId && n.body.includes(marker)).sort((a, b) => a.id - b.id)[0];
  if (!ours) return { action: "create", body };
  return { action: ours.body === body ? "unchanged" : "update", noteId: ours.id, body };
}
