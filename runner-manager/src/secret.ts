import { inspect } from "node:util";

const REDACTED = "[redacted]";

/**
 * A token that cannot leak by accident: printing, logging, JSON.stringify and
 * string interpolation all show "[redacted]". Only reveal() gives the value,
 * and only the code that writes config.toml or calls GitLab should call it.
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
 * Removes anything that looks like a GitLab token from text we did not write
 * ourselves (server error bodies, ssh stderr) before it reaches a message.
 */
export function scrubTokens(text: string, known: readonly string[] = []): string {
  let out = text.replace(/\b(glrt|glpat|glrtr|gloas|glcbt|glptt|glft|glsoat|GR1348941)[-_A-Za-z0-9.]{8,}/g, REDACTED);
  for (const k of known) if (k.length >= 6) out = out.split(k).join(REDACTED);
  return out;
}
