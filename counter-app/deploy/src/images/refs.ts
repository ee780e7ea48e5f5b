/**
 * Image references in a registry and the JSON files that carry them between
 * pipeline jobs (pure): `app build --push` writes a build report per
 * architecture, `app manifest` reads them and writes the images file that
 * `app plan|deploy --images` roll out.
 */
import { InputError } from "@pifleet/fleet";
import type { StackImages } from "../deploy/stack.js";
import { contentHash, IMAGE_ARCHES, type ImageArch, type ImageTags } from "./recipe.js";

/** The three images the stack runs, in the order reports and files list them. */
export const STACK_KINDS = ["app", "loadBalancer"] as const satisfies ReadonlyArray<keyof StackImages & keyof ImageTags>;
export type StackKind = (typeof STACK_KINDS)[number];

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const PINNED = /^(\S+)@(sha256:[0-9a-f]{64})$/;

/** One image as the registry holds it. */
export interface PushedImage {
  /** REGISTRY/PREFIX/REPOSITORY:TAG */
  ref: string;
  /** The registry's manifest digest, sha256:…. */
  digest: string;
}

/** What `app build --push --json` prints: one architecture's images in the registry. */
export interface BuildReport {
  arch: ImageArch;
  images: Record<StackKind, PushedImage>;
}

/**
 * Where `app build --push PREFIX` puts a locally built image (pure):
 * `pifleet/counter:amd64-3f2a…` → `PREFIX/counter:3f2a…-amd64`. The hash
 * comes first so that every architecture's tag starts with the name of their
 * common manifest list (`PREFIX/counter:3f2a…`).
 */
export function pushedRef(prefix: string, localTag: string): string {
  const m = /^pifleet\/([a-z0-9-]+):(amd64|arm64)-([0-9a-f]+)$/.exec(localTag);
  if (!m) throw new Error(`not a tag pifleet's image build gives: ${localTag}`);
  return `${prefix.replace(/\/+$/, "")}/${m[1]}:${m[3]}-${m[2]}`;
}

/** `REPO:TAG` → [REPO, TAG]; the repository may carry a registry port (host:5000/a/b:tag). */
export function splitRef(ref: string): [repository: string, tag: string] {
  const m = /^(.+):([\w][\w.-]{0,127})$/.exec(ref);
  if (!m || m[1]?.endsWith("/") || (m[1] ?? "").includes("@")) throw new Error(`not REPOSITORY:TAG: ${ref}`);
  return [m[1] as string, m[2] as string];
}

/**
 * The manifest list's name for one image's per-architecture refs (pure): their
 * common `REPO:HASH` when every tag is `HASH-<arch>` with one hash (builds of
 * one commit), else `REPO:` a hash of all the tags. Refs of different
 * repositories are an input error.
 */
export function listRef(members: ReadonlyArray<{ ref: string; arch: ImageArch }>): string {
  const split = members.map((m) => ({ ...m, parts: splitRef(m.ref) }));
  const repositories = [...new Set(split.map((m) => m.parts[0]))];
  if (repositories.length !== 1) {
    throw new InputError(
      `the builds name different repositories for one image: ${repositories.join(", ")}`,
      "Build every architecture with the same --push prefix.",
    );
  }
  const suffixed = split.every((m) => m.parts[1].endsWith(`-${m.arch}`));
  const hashes = [...new Set(split.map((m) => m.parts[1].slice(0, -`-${m.arch}`.length)))];
  // A list must never take a member's own tag: only a stripped common hash, else a hash of all tags.
  const tag = suffixed && hashes.length === 1 ? hashes[0] : contentHash(split.map((m) => m.parts[1]).sort());
  return `${repositories[0]}:${tag}`;
}

/** The digest `docker push` reports (`TAG: digest: sha256:… size: N`), or undefined. */
export function pushDigest(output: string): string | undefined {
  return /digest: (sha256:[0-9a-f]{64})/.exec(output)?.[1];
}

/** The digest `docker manifest push` prints last on stdout, or undefined. */
export function manifestPushDigest(stdout: string): string | undefined {
  return [...stdout.matchAll(/sha256:[0-9a-f]{64}/g)].pop()?.[0];
}

/**
 * The digest from `docker manifest inspect -v REF` (pure): an object for a
 * single image, an array for a manifest list (then there is no single image
 * under that tag, and undefined says "not a pushed build").
 */
export function inspectedDigest(json: string): string | undefined {
  const parsed = JSON.parse(json) as { Descriptor?: { digest?: string } } | unknown[];
  if (Array.isArray(parsed)) return undefined;
  const digest = parsed.Descriptor?.digest;
  return digest && DIGEST.test(digest) ? digest : undefined;
}

/** `docker manifest inspect` says the registry has no such tag (as opposed to failing to ask). */
export function isMissingManifest(stderr: string): boolean {
  return /no such manifest|manifest unknown/i.test(stderr);
}

const describe = (v: unknown) => (v === undefined ? "missing" : JSON.stringify(v));

function parseJson(text: string, file: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`${file} is not JSON (${err instanceof Error ? err.message : String(err)})`, `Give the file ${what} wrote.`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Reads a build report (pure): `{arch, images: {app|loadBalancer: {ref, digest}}}`;
 * other fields (tags, built, pushed) are the build's own and ignored. Every
 * problem is listed in one InputError.
 */
export function parseBuildReport(text: string, file: string): BuildReport {
  const what = "`pifleet app build --push PREFIX --json`";
  const data = parseJson(text, file, what);
  const problems: string[] = [];
  const arch = isRecord(data) ? data.arch : undefined;
  if (!IMAGE_ARCHES.includes(arch as ImageArch)) problems.push(`arch is ${describe(arch)}, not one of ${IMAGE_ARCHES.join(", ")}`);
  const images = isRecord(data) && isRecord(data.images) ? data.images : undefined;
  if (!images) problems.push(`images is ${describe(isRecord(data) ? data.images : data)}, not an object`);
  const out: Partial<Record<StackKind, PushedImage>> = {};
  for (const kind of STACK_KINDS) {
    if (!images) break;
    const image = images[kind];
    const ref = isRecord(image) ? image.ref : undefined;
    const digest = isRecord(image) ? image.digest : undefined;
    if (typeof ref !== "string" || !/^\S+:\S+$/.test(ref) || ref.includes("@")) problems.push(`images.${kind}.ref is ${describe(ref)}`);
    if (typeof digest !== "string" || !DIGEST.test(digest))
      problems.push(`images.${kind}.digest is ${describe(digest)}, not sha256:<64 hex>`);
    if (typeof ref === "string" && typeof digest === "string") out[kind] = { ref, digest };
  }
  if (problems.length > 0) {
    throw new InputError(`${file} is not a build report: ${problems.join("; ")}`, `Give the JSON ${what} printed.`);
  }
  return { arch: arch as ImageArch, images: out as Record<StackKind, PushedImage> };
}

/**
 * Reads an images file (pure): `{app, loadBalancer}`, each
 * `REF@sha256:<64 hex>`. Anything else — a missing or unknown key, a ref
 * without a digest — is an InputError listing every problem: a deploy rolls
 * out exactly these images or nothing.
 */
export function parseImagesFile(text: string, file: string): StackImages {
  const what = "`pifleet app manifest --json`";
  const data = parseJson(text, file, what);
  if (!isRecord(data))
    throw new InputError(`${file} is not an images file: ${describe(data)} is not an object`, `Give the JSON ${what} printed.`);
  const problems: string[] = [];
  for (const kind of STACK_KINDS) {
    const ref = data[kind];
    if (typeof ref !== "string" || !PINNED.test(ref)) problems.push(`${kind} is ${describe(ref)}, not REF@sha256:<64 hex>`);
  }
  const unknown = Object.keys(data).filter((k) => !(STACK_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0) problems.push(`unknown key${unknown.length === 1 ? "" : "s"} ${unknown.join(", ")}`);
  if (problems.length > 0) {
    throw new InputError(`${file} is not an images file: ${problems.join("; ")}`, `Give the JSON ${what} printed.`);
  }
  return { app: data.app as string, loadBalancer: data.loadBalancer as string };
}

/** `REF@sha256:…` (a ref pinned by digest) → the digest; undefined for a ref without one. */
export function digestOf(ref: string): string | undefined {
  return PINNED.exec(ref)?.[2];
}

/**
 * The images a pipeline deploys for these tags, by tag (pure): the manifest
 * lists `app manifest` names after `app build --push PREFIX` (their digests
 * exist only once pushed). A plan of them compares tags with what Swarm runs,
 * so a merge request that leaves the app alone plans no image change.
 */
export function pipelineImages(prefix: string, tags: ImageTags, arch: ImageArch): StackImages {
  const list = (kind: StackKind) => listRef([{ ref: pushedRef(prefix, tags[kind]), arch }]);
  return { app: list("app"), loadBalancer: list("loadBalancer") };
}
