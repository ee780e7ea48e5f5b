import { inspect } from "node:util";
import { EnvironmentError } from "@pifleet/fleet";

/** What replaces a secret in any text pifleet shows, logs or stores. */
export const REDACTED = "[redacted]";

/**
 * A token that cannot leak by accident: printing, logging, JSON.stringify and
 * string interpolation all show "[redacted]". Only reveal() gives the value,
 * and only code that writes it to stdin, a 0600 file or an HTTP header should call it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/**
 * GitLab's token prefixes (personal, runner, runner registration, OAuth, CI job, pipeline trigger, feed,
 * service account, deploy, incoming mail, agent, feature flag, workspace; the legacy registration token).
 * Not word-anchored: `token%3Dglrt-…` and `x_glpat-…` put a word character right before the prefix.
 */
const GITLAB_TOKEN = /(?:gl(?:pat|rt|rtr|oas|cbt|ptt|ft|soat|dt|imt|agent|ffct|wt)-|GR1348941)[-_A-Za-z0-9.]{8,}/g;

/** A PEM (or PGP) private-key block; a block cut off before its END line is masked to the end of the text. */
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[\s\S]*$)/g;

/** The password in a URL's user info: `https://user:PASSWORD@host`. */
// The scheme starts where a run of scheme characters starts (not at every \b inside one): linear time on long words.
const URL_PASSWORD = /((?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)([^\s/@]+)(@)/gi;

/**
 * The value after a secret-looking key, in any of the shapes config files, logs and JSON give it:
 * `token = "a b, c"`, `password: p4ss`, `"api_key": "x}y"`, `\"secret\": \"…\"` (JSON inside a JSON string),
 * `password%3Dx` (URL-encoded), `Authorization: Bearer x`, docker's `"auth": "dXNl…"`.
 * The key must be the whole word: "PasswordAuthentication no" and "author: x" are left alone.
 */
const KEY = String.raw`(?<![\w.-])(?:[\w.-]*(?:token|passw(?:or)?d|secret|private[_-]?key|api[_-]?key|credential)[\w.-]*|auth|authorization)`;
const SEPARATOR = String.raw`(?:\\?["'])?\s*(?:[=:]|%3[Dd])[ \t]*`;
const VALUE = [
  String.raw`\\"(?<escaped>(?:[^"\\\n]|\\[^"\n])*)\\"`,
  String.raw`"(?<double>(?:[^"\\\n]|\\.)*)"`,
  String.raw`'(?<single>[^'\n]*)'`,
  String.raw`(?<scheme>(?:Bearer|Basic|Token|token)[ \t]+)?(?<bare>[^\s"'&,;{}\\]+)`,
].join("|");
const SECRET_ASSIGNMENT = new RegExp(`(?<key>${KEY})(?<sep>${SEPARATOR})(?:${VALUE})`, "gi");

/** Keys that name a secret's metadata, not the secret: `token_expires_at`, `token_type`. */
const NOT_A_SECRET_KEY = /(?:_at|_type|_expires_in|_file|_env|_name)$/i;

/** Known values shorter than this are not masked: they would blank ordinary words. */
const MIN_MASKED_LENGTH = 4;

type AssignmentGroups = { key: string; sep: string; escaped?: string; double?: string; single?: string; scheme?: string; bare?: string };

function maskAssignment(match: string, ...args: unknown[]): string {
  const g = args.at(-1) as AssignmentGroups;
  if (NOT_A_SECRET_KEY.test(g.key)) return match;
  const head = `${g.key}${g.sep}`;
  if (g.escaped !== undefined) return `${head}\\"${REDACTED}\\"`;
  if (g.double !== undefined) return `${head}"${REDACTED}"`;
  if (g.single !== undefined) return `${head}'${REDACTED}'`;
  return `${head}${g.scheme ?? ""}${REDACTED}`;
}

/**
 * pifleet's one masking function, for every text that leaves the process (messages, reports,
 * plan notes, logs, artifacts) and that pifleet did not compose from Secret values itself:
 * server error bodies, ssh and Ansible output, diffs of config files. It replaces every known
 * secret value, GitLab-shaped tokens, private-key blocks, URL passwords and the value of any
 * secret-looking key with "[redacted]". Running it twice changes nothing more.
 */
export function scrubTokens(text: string, known: readonly (string | Secret)[] = []): string {
  let out = text.replace(PRIVATE_KEY, REDACTED);
  const values = known.map((k) => (typeof k === "string" ? k : k.reveal())).filter((v) => v.length >= MIN_MASKED_LENGTH);
  // Longest first: a secret that contains another is masked whole.
  for (const value of values.sort((a, b) => b.length - a.length)) out = out.split(value).join(REDACTED);
  return out.replace(GITLAB_TOKEN, REDACTED).replace(URL_PASSWORD, `$1${REDACTED}$3`).replace(SECRET_ASSIGNMENT, maskAssignment);
}

/** The secret in environment variable `name`; EnvironmentError (exit 3) naming the variable when unset or empty. */
export function secretFromEnv(name: string, env: NodeJS.ProcessEnv = process.env, hint?: string): Secret {
  const value = env[name];
  if (value === undefined || value === "") {
    throw new EnvironmentError(`the environment variable ${name} is not set`, hint ?? `Export ${name} with the token, then run again.`);
  }
  return new Secret(value);
}
