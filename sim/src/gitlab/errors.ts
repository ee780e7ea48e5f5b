/**
 * GitLab's error answers as throwable values (the app's error handler writes them), shaped exactly as
 * its API helpers send them: `{"message": "<status> <reason>[ - detail]"}` for 401/403/404 and
 * service-level 400s, `{"error": "..."}` for parameter validation (Grape), and
 * `{"message": {field: [..]}}` for model validation.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(
      typeof body === "object" && body !== null && "message" in body ? String((body as { message: unknown }).message) : `HTTP ${status}`,
    );
  }
}

export const unauthorized = () => new ApiError(401, { message: "401 Unauthorized" });

export const forbidden = (detail?: string) => new ApiError(403, { message: detail ? `403 Forbidden - ${detail}` : "403 Forbidden" });

/** `notFound("Runner")` → 404 {"message": "404 Runner Not Found"}; without a resource: "404 Not found". */
export const notFound = (resource?: string) => new ApiError(404, { message: resource ? `404 ${resource} Not Found` : "404 Not found" });

/** A bad request raised by a service: {"message": "400 Bad request - detail"}. */
export const badRequest = (detail: string) => new ApiError(400, { message: `400 Bad request - ${detail}` });

/** Grape parameter validation: {"error": "runner_type is missing"}. */
export const paramError = (error: string) => new ApiError(400, { error });

/** ActiveRecord validation: {"message": {"tags_list": ["..."]}}. */
export const validationError = (fields: Record<string, string[]>) => new ApiError(400, { message: fields });

/** The token lacks a scope the route needs; body and header as GitLab's OAuth2 Bearer handler writes them. */
export function insufficientScope(needed: readonly string[]): ApiError {
  const description = "The request requires higher privileges than provided by the access token.";
  const scope = needed.join(" ");
  return new ApiError(
    403,
    { error: "insufficient_scope", error_description: description, scope },
    { "WWW-Authenticate": `Bearer realm="", error="insufficient_scope", error_description="${description}", scope="${scope}"` },
  );
}
