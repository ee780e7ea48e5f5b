import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, resolve } from "node:path";
import type { z } from "zod";
import { memoryBudget } from "./budget.js";
import { budgetProblems } from "./budget-check.js";
import { checkFleet } from "./checks.js";
import { type Diagnostic, DiagnosticsError, InputError } from "./errors.js";
import { type Fleet, FleetSchema } from "./schema.js";
import { diagnosticAt, formatPath, type LocatedYaml, type PathSegment, parseLocatedYaml } from "./source-map.js";
import { type FleetTopology, resolveTopology } from "./topology.js";

const FIX_HINT = "Fix the lines above; `pifleet validate` checks the file without touching any node.";

function describeInput(input: unknown): string {
  if (input === undefined) return "nothing";
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "a map";
  return `${typeof input} ${JSON.stringify(input)}`;
}

function issueToDiagnostics(y: LocatedYaml, issue: z.core.$ZodIssue): Diagnostic[] {
  const path = issue.path.filter((p): p is PathSegment => typeof p !== "symbol");
  const where = formatPath(path);
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) =>
        diagnosticAt(
          y,
          [...path, key],
          `unknown key "${key}"${where ? ` in ${where}` : ""}; check its spelling against fleet.schema.json`,
          "key",
        ),
      );
    case "invalid_type": {
      const missing = issue.input === undefined;
      const message = missing
        ? `${where}: required ${issue.expected} is missing`
        : `${where}: expected ${issue.expected}, got ${describeInput(issue.input)}`;
      return [diagnosticAt(y, path, message)];
    }
    case "invalid_value": {
      const last = path[path.length - 1];
      const what = path.includes("roles") ? "role" : typeof last === "string" ? last : (path[path.length - 2] ?? "value");
      const options = issue.values.map(String).join(", ");
      return [diagnosticAt(y, path, `unknown ${String(what)} ${JSON.stringify(issue.input)} at ${where}: expected one of ${options}`)];
    }
    default:
      return [diagnosticAt(y, path, `${where ? `${where}: ` : ""}${issue.message}`)];
  }
}

/** Parses fleet.yaml text. Throws DiagnosticsError listing every problem with its position. */
export function parseFleet(text: string, file = "fleet.yaml"): Fleet {
  const y = parseLocatedYaml(text, file);
  if (y.syntaxErrors.length > 0) throw new DiagnosticsError(y.syntaxErrors, FIX_HINT);
  const raw: unknown = y.doc.toJS();
  const diagnostics: Diagnostic[] = [];
  const parsed = FleetSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!parsed.success) for (const issue of parsed.error.issues) diagnostics.push(...issueToDiagnostics(y, issue));
  const problems = checkFleet(raw);
  // The memory budget needs a model that resolves (every node and reference valid), so it comes last.
  if (parsed.success && problems.length === 0) problems.push(...budgetProblems(parsed.data, memoryBudget(parsed.data)));
  for (const p of problems) diagnostics.push(diagnosticAt(y, p.path, p.message, p.at === "key" ? "key" : "value"));
  if (diagnostics.length > 0 || !parsed.success) {
    diagnostics.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new DiagnosticsError(diagnostics, FIX_HINT);
  }
  return parsed.data;
}

function resolveFrom(dir: string, p: string): string {
  if (p === "~" || p.startsWith("~/")) return resolve(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(dir, p);
}

export interface LoadedFleet {
  fleet: Fleet;
  /** Absolute path of the fleet file. */
  file: string;
  /** Where each piece runs, resolved once after validation. */
  topology: FleetTopology;
}

/** Environment variable naming the SSH private key; it wins over ssh.privateKey (pipelines hand the key over as a file variable). */
export const SSH_KEY_ENV = "PIFLEET_SSH_KEY";

/**
 * Reads and validates a fleet file and resolves its topology; SSH paths come back absolute.
 * A non-empty PIFLEET_SSH_KEY in `env` replaces ssh.privateKey (relative to the working directory).
 */
export async function loadFleetFile(path: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<LoadedFleet> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      `cannot read fleet file ${path}: ${code === "ENOENT" ? "no such file" : String(err)}`,
      "Pass --fleet PATH, or start from examples/fleet.yaml (or `pifleet sim up` writes one for a simulated fleet).",
    );
  }
  const fleet = parseFleet(text, path);
  const dir = dirname(file);
  const keyOverride = env[SSH_KEY_ENV];
  fleet.ssh.privateKey = keyOverride ? resolve(keyOverride) : resolveFrom(dir, fleet.ssh.privateKey);
  fleet.ssh.knownHosts = resolveFrom(dir, fleet.ssh.knownHosts);
  return { fleet, file, topology: resolveTopology(fleet) };
}
