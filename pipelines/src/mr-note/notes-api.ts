import { OperationError } from "@pifleet/fleet";
import type { ExistingNote } from "./marker.js";
import { DEFAULT_RETRY, isRetryable, type RetryPolicy, retryDelayMs } from "./retry.js";

/** Which header carries the token: a personal/project access token, or a CI job token. */
export interface GitlabCredentials {
  header: "PRIVATE-TOKEN" | "JOB-TOKEN";
  /** Never logged, never part of an error. */
  token: string;
}

export interface NotesApiOptions {
  /** e.g. https://gitlab.example.com/api/v4 */
  apiUrl: string;
  credentials: GitlabCredentials;
  retry?: RetryPolicy;
  /** Seams for tests of timing; default the real ones. */
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (info: { method: string; path: string; status: number | "network"; waitMs: number; attempt: number }) => void;
}

/** The merge-request notes endpoints the note command needs. */
export interface NotesApi {
  list(project: string, mr: number): Promise<ExistingNote[]>;
  create(project: string, mr: number, body: string): Promise<ExistingNote>;
  update(project: string, mr: number, noteId: number, body: string): Promise<ExistingNote>;
}

/** Safety bound for pagination: 100 pages of 100 notes. */
const MAX_PAGES = 100;

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** GitLab's MR notes API over fetch, retrying 429 and 5xx (honouring Retry-After) and network errors. */
export function notesApi(options: NotesApiOptions): NotesApi {
  const policy = options.retry ?? DEFAULT_RETRY;
  const sleep = options.sleep ?? wait;
  const base = options.apiUrl.replace(/\/+$/, "");

  async function request(method: string, path: string, body?: unknown): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      let response: Response | undefined;
      let failure: string | undefined;
      try {
        response = await fetch(`${base}${path}`, {
          method,
          headers: {
            [options.credentials.header]: options.credentials.token,
            "content-type": "application/json",
            accept: "application/json",
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (err) {
        failure = (err as Error).name === "TimeoutError" ? "timed out after 30 s" : `${(err as Error).message}`;
      }
      if (response && !isRetryable(response.status)) {
        if (response.ok) return response;
        throw await refusal(method, path, response);
      }
      if (attempt >= policy.attempts) {
        throw new OperationError(
          `GitLab ${method} ${path}: ${response ? `HTTP ${response.status}` : failure} after ${attempt} attempts`,
          "GitLab is busy or unreachable; run the job again later.",
        );
      }
      const waitMs = retryDelayMs(attempt, response?.headers.get("retry-after") ?? null, policy);
      await response?.body?.cancel();
      options.onRetry?.({ method, path, status: response?.status ?? "network", waitMs, attempt });
      await sleep(waitMs);
    }
  }

  const notesPath = (project: string, mr: number) => `/projects/${encodeURIComponent(project)}/merge_requests/${mr}/notes`;

  return {
    async list(project, mr) {
      const out: ExistingNote[] = [];
      let page = "1";
      for (let i = 0; i < MAX_PAGES && page !== ""; i++) {
        const res = await request("GET", `${notesPath(project, mr)}?per_page=100&page=${page}&sort=asc&order_by=created_at`);
        out.push(...((await res.json()) as ExistingNote[]));
        page = res.headers.get("x-next-page") ?? "";
      }
      return out;
    },
    async create(project, mr, body) {
      return (await (await request("POST", notesPath(project, mr), { body })).json()) as ExistingNote;
    },
    async update(project, mr, noteId, body) {
      return (await (await request("PUT", `${notesPath(project, mr)}/${noteId}`, { body })).json()) as ExistingNote;
    },
  };
}

/** A 4xx as an error a person can act on; GitLab's message is included, the token never is. */
async function refusal(method: string, path: string, res: Response): Promise<OperationError> {
  const text = (await res.text().catch(() => "")).slice(0, 300);
  const hint =
    res.status === 401
      ? "The token is missing, unknown or revoked: set GITLAB_TOKEN to a token with the api scope."
      : res.status === 403
        ? "The token lacks the api scope or access to this project."
        : res.status === 404
          ? "Check --project and --mr (the project must be visible to the token's user)."
          : undefined;
  return new OperationError(`GitLab ${method} ${path}: HTTP ${res.status} ${text}`.trim(), hint);
}
