import { createHash } from "node:crypto";

/** Sent with every response, the hot path's included. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "cache-control": "no-store",
};

/** The HTML page's policy allows exactly its own inline stylesheet, by hash; no scripts at all. */
export function pageCsp(inlineStyle: string): string {
  const hash = createHash("sha256").update(inlineStyle).digest("base64");
  return `default-src 'none'; style-src 'sha256-${hash}'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;
}

/** Requests with a larger body are refused (413): no route takes a body. */
export const BODY_LIMIT_BYTES = 1024;
/** node:http refuses larger request headers with 431. */
export const HEADER_LIMIT_BYTES = 8 * 1024;
