import { createHash } from "node:crypto";
import { OperationError } from "@pifleet/fleet";
import type { Secret } from "@pifleet/io";
import { parse, stringify, TomlDate, TomlError } from "smol-toml";
import { redactConfig } from "./redact-config.js";
import type { NodeSettings, ObservedBlock, RunnerBlockSettings } from "./types.js";

/**
 * config.toml as pifleet reads and writes it: read, merge what fleet.yaml
 * decides, keep everything else — blocks pifleet did not write, keys it does
 * not manage, and the token fields gitlab-runner rewrites when it rotates its
 * own token (token, token_obtained_at, token_expires_at).
 */

type Table = Record<string, unknown>;

export const CONFIG_PATH = "/etc/gitlab-runner/config.toml";
/** Blocks whose name starts with this are pifleet's; others are left alone. */
const OWNED_PREFIX = "pifleet ";
const ZERO_TIME = "0001-01-01T00:00:00Z";
const TOKEN_KEYS = new Set(["token", "token_obtained_at", "token_expires_at"]);

export const CONFIG_HEADER =
  "# Managed by pifleet: edit fleet.yaml and run `pifleet runners apply`.\n" +
  '# Blocks not named "pifleet ..." are kept as they are; gitlab-runner\'s own token rotation is kept too.\n';

/** A fresh token for a block, from POST /user/runners or a token reset. */
export interface TokenGrant {
  token: Secret;
  obtainedAt: Date;
  expiresAt: Date | null;
}

export interface ManagedBlock {
  runnerId: number;
  settings: RunnerBlockSettings;
  grant?: TokenGrant;
}

/** Parses config.toml; the error names the node and position but never echoes the text (it holds tokens). */
export function parseConfig(text: string | null, node: string): Table {
  if (text === null || text.trim() === "") return {};
  try {
    return parse(text) as Table;
  } catch (err) {
    const where = err instanceof TomlError ? `line ${err.line}, column ${err.column}` : "unknown position";
    throw new OperationError(
      `${node}: ${CONFIG_PATH} is not valid TOML (${where})`,
      `Fix or remove the file on ${node}, then rerun; pifleet rewrites it from fleet.yaml.`,
    );
  }
}

function blocksOf(doc: Table): Table[] {
  return Array.isArray(doc.runners) ? (doc.runners as Table[]) : [];
}

export function observedBlocks(doc: Table): ObservedBlock[] {
  return blocksOf(doc).map((b) => ({ id: typeof b.id === "number" ? b.id : 0, name: typeof b.name === "string" ? b.name : "" }));
}

function renderBlock(existing: Table | undefined, m: ManagedBlock): Table {
  const s = m.settings;
  const base: Table = { ...(existing ?? {}) };
  const tokenFields: Table = m.grant
    ? {
        token: m.grant.token.reveal(),
        token_obtained_at: new TomlDate(m.grant.obtainedAt.toISOString()),
        token_expires_at: new TomlDate(m.grant.expiresAt ? m.grant.expiresAt.toISOString() : ZERO_TIME),
      }
    : { token: base.token, token_obtained_at: base.token_obtained_at, token_expires_at: base.token_expires_at };
  if (tokenFields.token === undefined) throw new Error(`internal: no token for runner #${m.runnerId} (${s.name})`);
  for (const k of ["name", "url", "id", ...TOKEN_KEYS, "executor", "limit", "request_concurrency", "shell", "docker"]) delete base[k];
  const docker = s.docker
    ? {
        docker: {
          ...((existing?.docker as Table | undefined) ?? {}),
          image: s.docker.image,
          memory: s.docker.memory,
          memory_swap: s.docker.memorySwap,
          privileged: false,
          volumes: s.docker.volumes,
        },
      }
    : {};
  return {
    name: s.name,
    url: s.url,
    id: m.runnerId,
    ...tokenFields,
    executor: s.executor,
    limit: s.limit,
    request_concurrency: s.requestConcurrency,
    ...(s.shell ? { shell: s.shell } : {}),
    ...base,
    ...docker,
  };
}

/** The config.toml document a node should have. Pure: the same inputs give the same document. */
export function mergeConfig(current: Table, settings: NodeSettings, managed: ManagedBlock[]): Table {
  const existing = blocksOf(current);
  const foreign = existing.filter((b) => !String(b.name ?? "").startsWith(OWNED_PREFIX));
  const byId = new Map(existing.filter((b) => !foreign.includes(b)).map((b) => [b.id, b]));
  const rest: Table = { ...current };
  for (const k of ["concurrent", "check_interval", "listen_address", "shutdown_timeout", "runners"]) delete rest[k];
  return {
    concurrent: settings.concurrent,
    check_interval: settings.checkInterval,
    listen_address: settings.listenAddress,
    shutdown_timeout: settings.shutdownTimeout,
    ...rest,
    runners: [...managed.map((m) => renderBlock(byId.get(m.runnerId), m)), ...foreign],
  };
}

export function renderConfig(doc: Table): string {
  return `${CONFIG_HEADER}\n${stringify(doc)}\n`;
}

/** A comparable form: dates as ISO strings, keys sorted. */
function canonical(value: unknown): unknown {
  if (value instanceof Date) return `date:${value.toISOString()}`;
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    const out: Table = {};
    for (const k of Object.keys(value).sort()) out[k] = canonical((value as Table)[k]);
    return out;
  }
  return value;
}

/**
 * A digest of what a plan reads from config.toml: the parsed document without
 * the token fields, so no token reaches a saved plan and gitlab-runner's own
 * token rotation does not make a plan stale. null when there is no file.
 */
export function configDigest(text: string | null, node: string): string | null {
  if (text === null) return null;
  const doc = parseConfig(text, node);
  // Credentials are redacted, so a token-free observation (an MR plan's) digests as the real file does.
  const withoutTokens = redactConfig({
    ...doc,
    runners: blocksOf(doc).map((b) => Object.fromEntries(Object.entries(b).filter(([k]) => !TOKEN_KEYS.has(k)))),
  });
  return createHash("sha256")
    .update(JSON.stringify(canonical(withoutTokens)))
    .digest("hex");
}

function flatten(doc: Table): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (value: unknown, path: string) => {
    if (value && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date)) {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
      return;
    }
    out.set(path, JSON.stringify(canonical(value)));
  };
  const { runners, ...globals } = doc;
  walk(globals, "");
  for (const b of blocksOf({ runners })) {
    const label = `runner "${String(b.name ?? "?")}"`;
    for (const [k, v] of Object.entries(b)) walk(v, `${label} ${k}`);
  }
  return out;
}

function blockLabels(doc: Table): Set<string> {
  return new Set(blocksOf(doc).map((b) => `runner "${String(b.name ?? "?")}"`));
}

/**
 * What a write would change, one line each, tokens never shown (only that they change).
 * An empty list means the node is already right and nothing is written.
 */
export function configChanges(before: Table, after: Table): string[] {
  const a = flatten(before);
  const b = flatten(after);
  const added = [...blockLabels(after)].filter((l) => !blockLabels(before).has(l));
  const removed = [...blockLabels(before)].filter((l) => !blockLabels(after).has(l));
  const inBlock = (k: string, labels: string[]) => labels.some((l) => k.startsWith(`${l} `));
  const lines = [...added.map((l) => `+ ${l}`), ...removed.map((l) => `- ${l}`)];
  for (const [k, v] of b) {
    const old = a.get(k);
    if (old === v || inBlock(k, added)) continue;
    if (TOKEN_KEYS.has(k.split(" ").pop() ?? "")) lines.push(`${k}: ${old === undefined ? "set" : "replaced"}`);
    else lines.push(old === undefined ? `+ ${k} = ${v}` : `${k}: ${old} → ${v}`);
  }
  for (const k of a.keys()) if (!b.has(k) && !inBlock(k, removed)) lines.push(`- ${k}`);
  return lines;
}
