/**
 * Multi-arch manifest lists from per-architecture build reports (pure): which
 * lists to make, from which pinned members, with which docker commands.
 * Docker 20.10's CLI has `docker manifest` (no buildx in Debian bookworm);
 * it talks to the registry itself, so no engine is needed to run them.
 */
import { InputError } from "@pifleet/fleet";
import type { StackImages } from "../deploy/stack.js";
import type { ImageArch } from "./recipe.js";
import { type BuildReport, listRef, STACK_KINDS, type StackKind } from "./refs.js";

export interface ManifestList {
  kind: StackKind;
  /** REPO:TAG of the list. */
  list: string;
  /** One image per architecture, pinned: REPO:TAG@sha256:…, sorted by architecture. */
  members: Array<{ arch: ImageArch; ref: string }>;
}

/** The lists for the three images, one member per report (pure); two reports for one architecture are an input error. */
export function manifestLists(reports: readonly BuildReport[]): ManifestList[] {
  if (reports.length === 0)
    throw new InputError("no build reports given", "Pass the JSON files of `pifleet app build --push PREFIX --json`.");
  const arches = reports.map((r) => r.arch);
  const twice = arches.filter((a, i) => arches.indexOf(a) !== i);
  if (twice.length > 0) {
    throw new InputError(
      `two build reports for ${[...new Set(twice)].join(", ")}: a manifest list has one image per architecture`,
      "Pass one report per architecture.",
    );
  }
  const sorted = [...reports].sort((a, b) => a.arch.localeCompare(b.arch));
  return STACK_KINDS.map((kind) => {
    const images = sorted.map((r) => ({ arch: r.arch, ...r.images[kind] }));
    return {
      kind,
      list: listRef(images),
      members: images.map((i) => ({ arch: i.arch, ref: `${i.ref}@${i.digest}` })),
    };
  });
}

/**
 * The docker commands that make one list in the registry: drop a local list
 * left by an interrupted run (its failure is expected and ignored), create,
 * annotate each member's platform, push (which prints the list's digest) and
 * purge the local copy. The registry is plain HTTP, hence --insecure.
 */
export function manifestCommands(list: ManifestList): { remove: string[]; create: string[]; annotate: string[][]; push: string[] } {
  return {
    remove: ["manifest", "rm", list.list],
    create: ["manifest", "create", "--insecure", list.list, ...list.members.map((m) => m.ref)],
    annotate: list.members.map((m) => ["manifest", "annotate", "--os", "linux", "--arch", m.arch, list.list, m.ref]),
    push: ["manifest", "push", "--insecure", "--purge", list.list],
  };
}

/** The images file: each list pinned by the digest its push printed (pure). */
export function pinnedImages(lists: ReadonlyArray<{ kind: StackKind; list: string; digest: string }>): StackImages {
  const ref = (kind: StackKind) => {
    const l = lists.find((x) => x.kind === kind);
    if (!l) throw new Error(`no manifest list for ${kind}`);
    return `${l.list}@${l.digest}`;
  };
  return { app: ref("app"), loadBalancer: ref("loadBalancer") };
}
