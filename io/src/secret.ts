import { inspect } from "node:util";
import { EnvironmentError } from "@pifleet/fleet";

const REDACTED = "[redacted]";

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

/** GitLab's token prefixes (personal, runner, OAuth, CI job, trigger, feed, service account, registration). */
const GITLAB_TOKEN = /\b(glpat|glrt|glrtr|gloas|glcbt|glptt|glft|glsoat|GR1348941)[-_A-Za-z0-9.]{8,}/g;

/** Known values shorter than this are not scrubbed: they would blank ordinary words. */
const MIN_SCRUBBED_LENGTH = 6;

/**
 * Removes anything that looks like a GitLab token, and every known secret, from
 * text we did not write ourselves (server error bodies, ssh stderr) before it
 * reaches a message.
 */
export function scrubTokens(text: string, known: readonly (string | Secret)[] = []): string {
  let out = text.replace(GITLAB_TOKEN, REDACTED);
  for (const k of known) {
    const value = typeof k === "string" ? k : k.reveal();
    if (value.length >= MIN_SCRUBBED_LENGTH) out = out.split(value).join(REDACTED);
  }
  return out;
}

/** The secret in environment variable `name`; EnvironmentError (exit 3) naming the variable when unset or empty. */
export function secretFromEnv(name: string, env: NodeJS.ProcessEnv = process.env, hint?: string): Secret {
  const value = env[name];
  if (value === undefined || value === "") {
    throw new EnvironmentError(`the environment variable ${name} is not set`, hint ?? `Export ${name} with the token, then run again.`);
  }
  return new Secret(value);
}
