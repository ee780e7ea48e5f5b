import { OperationError } from "@pifleet/fleet";
import {
  type Clock,
  DEFAULT_RETRY,
  type GitlabAuth,
  GitlabHttpError,
  GitlabNetworkError,
  gitlabTransport,
  isRetryable,
  type RetryPolicy,
} from "@pifleet/io";
import type { ExistingNote } from "./marker.js";

/** A retry about to happen, for progress lines. */
export interface NoteRetry {
  method: string;
  path: string;
  status: number | "network";
  waitMs: number;
  attempt: number;
}

export interface NotesApiOptions {
  /** The GitLab instance or its API URL (…/api/v4 is added when missing). */
  apiUrl: string;
  credentials: GitlabAuth;
  /** The environment variable the token came from, named in the hint when GitLab refuses it. */
  tokenEnv?: string;
  retry?: RetryPolicy;
  /** Seams for tests of timing; default the real clock and random jitter. */
  clock?: Clock;
  random?: () => number;
  onRetry?: (info: NoteRetry) => void;
}

/** The merge-request notes endpoints the note command needs. */
export interface NotesApi {
  /** The token's own user (GET /user), asked once per NotesApi and then remembered. */
  self(): Promise<{ id: number }>;
  list(project: string, mr: number): Promise<ExistingNote[]>;
  create(project: string, mr: number, body: string): Promise<ExistingNote>;
  update(project: string, mr: number, noteId: number, body: string): Promise<ExistingNote>;
}

/** GitLab's MR notes API over @pifleet/io's transport (its retry policy: 429, 5xx, network; Retry-After honoured). */
export function notesApi(options: NotesApiOptions): NotesApi {
  const policy = options.retry ?? DEFAULT_RETRY;
  const transport = gitlabTransport({
    url: options.apiUrl,
    auth: options.credentials,
    retry: policy,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
    onRetry: (err, attempt, delayMs) => options.onRetry?.(retryInfo(err, attempt, delayMs)),
  });
  const tokenEnv = options.tokenEnv ?? "GITLAB_TOKEN";
  const explained = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      throw explain(err, policy.attempts, tokenEnv);
    }
  };
  const notesPath = (project: string, mr: number) => `/projects/${encodeURIComponent(project)}/merge_requests/${mr}/notes`;
  let self: { id: number } | undefined;

  return {
    self: async () => {
      self ??= await explained(async () => ({ id: (await transport.request<{ id: number }>("GET", "/user")).body.id }));
      return self;
    },
    list: (project, mr) =>
      explained(() => transport.paginate<ExistingNote>(notesPath(project, mr), { sort: "asc", order_by: "created_at" })),
    create: (project, mr, body) =>
      explained(async () => (await transport.request<ExistingNote>("POST", notesPath(project, mr), { body: { body } })).body),
    update: (project, mr, noteId, body) =>
      explained(async () => (await transport.request<ExistingNote>("PUT", `${notesPath(project, mr)}/${noteId}`, { body: { body } })).body),
  };
}

function retryInfo(err: Error, attempt: number, waitMs: number): NoteRetry {
  if (err instanceof GitlabHttpError) return { method: err.method, path: err.path, status: err.status, waitMs, attempt };
  if (err instanceof GitlabNetworkError) return { method: err.method, path: err.path, status: "network", waitMs, attempt };
  return { method: "?", path: "?", status: "network", waitMs, attempt };
}

/**
 * GitLab's answer as an error a person can act on: retries used up → "run again later";
 * a refusal → GitLab's (already scrubbed) message and what to check. Never the token.
 */
function explain(err: unknown, attempts: number, tokenEnv: string): unknown {
  const busy = "GitLab is busy or unreachable; run the job again later.";
  if (err instanceof GitlabNetworkError)
    return new OperationError(`GitLab ${err.method} ${err.path}: ${err.reason} after ${attempts} attempts`, busy);
  if (!(err instanceof GitlabHttpError)) return err;
  if (isRetryable(err)) return new OperationError(`GitLab ${err.method} ${err.path}: HTTP ${err.status} after ${attempts} attempts`, busy);
  const hint =
    err.status === 401
      ? `The token is missing, unknown or revoked: set ${tokenEnv} to a token with the api scope.`
      : err.status === 403
        ? "The token lacks the api scope or access to this project."
        : err.status === 404
          ? "Check --project and --mr (the project must be visible to the token's user)."
          : undefined;
  return new OperationError(`GitLab ${err.method} ${err.path}: HTTP ${err.status} ${err.description}`.trim(), hint);
}
