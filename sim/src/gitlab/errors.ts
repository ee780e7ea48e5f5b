import type { Response } from "express";

/**
 * GitLab's error bodies, shaped exactly as its API helpers send them:
 * `{"message": "<status> <reason>[ - detail]"}` for 401/403/404/400-with-message,
 * `{"error": "..."}` for parameter validation (Grape), and `{"message": {field: [..]}}` for model validation.
 */
export function unauthorized(res: Response): void {
  res.status(401).json({ message: "401 Unauthorized" });
}

export function forbidden(res: Response, detail?: string): void {
  res.status(403).json({ message: detail ? `403 Forbidden - ${detail}` : "403 Forbidden" });
}

/** `notFound(res, "Runner")` → 404 {"message": "404 Runner Not Found"}; without a resource: "404 Not found". */
export function notFound(res: Response, resource?: string): void {
  res.status(404).json({ message: resource ? `404 ${resource} Not Found` : "404 Not found" });
}

/** Bad request raised by a service: {"message": "400 Bad request - detail"}. */
export function badRequest(res: Response, detail: string): void {
  res.status(400).json({ message: `400 Bad request - ${detail}` });
}

/** Grape parameter validation: {"error": "runner_type is missing"}. */
export function paramError(res: Response, error: string): void {
  res.status(400).json({ error });
}

/** ActiveRecord validation: {"message": {"tags_list": ["..."]}}. */
export function validationError(res: Response, fields: Record<string, string[]>): void {
  res.status(400).json({ message: fields });
}

/** Token lacks a scope the route needs; body and header as GitLab's OAuth2 Bearer handler writes them. */
export function insufficientScope(res: Response, needed: readonly string[]): void {
  const description = "The request requires higher privileges than provided by the access token.";
  const scope = needed.join(" ");
  res
    .status(403)
    .set("WWW-Authenticate", `Bearer realm="", error="insufficient_scope", error_description="${description}", scope="${scope}"`)
    .json({ error: "insufficient_scope", error_description: description, scope });
}
