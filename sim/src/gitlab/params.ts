import type { Request } from "express";
import { paramError } from "./errors.js";

export type Params = Record<string, unknown>;

/** GitLab reads parameters from the query string and the body alike (JSON or form-encoded). */
export function readParams(req: Request): Params {
  const body = typeof req.body === "object" && req.body !== null ? (req.body as Params) : {};
  return { ...(req.query as Params), ...body };
}

const TRUE = new Set(["1", "on", "t", "true", "y", "yes"]);
const FALSE = new Set(["0", "off", "f", "false", "n", "no"]);

export function boolParam(p: Params, name: string): boolean | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  if (typeof v === "boolean") return v;
  const s = String(v).toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw paramError(`${name} is invalid`);
}

export function intParam(p: Params, name: string): number | undefined {
  const v = p[name];
  if (v === undefined || v === "") return undefined;
  const n = typeof v === "number" ? v : Number(String(v));
  if (!Number.isInteger(n)) throw paramError(`${name} is invalid`);
  return n;
}

export function stringParam(p: Params, name: string): string | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return String(v);
  throw paramError(`${name} is invalid`);
}

export function requireParam<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw paramError(`${name} is missing`);
  return value;
}

export function enumParam<T extends string>(p: Params, name: string, values: readonly T[]): T | undefined {
  const v = stringParam(p, name);
  if (v === undefined) return undefined;
  if (!(values as readonly string[]).includes(v)) throw paramError(`${name} does not have a valid value`);
  return v as T;
}

/** tag_list: an array, or a comma-separated string (both accepted by GitLab); blanks dropped, trimmed. */
export function tagListParam(p: Params, name = "tag_list"): string[] | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  const parts = Array.isArray(v) ? v.map(String) : typeof v === "string" ? v.split(",") : undefined;
  if (!parts) throw paramError(`${name} is invalid`);
  return [...new Set(parts.map((t) => t.trim()).filter((t) => t.length > 0))];
}

/** The fields of `fields` that are set: an update that leaves out what a request did not send. */
export function definedFields<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}
