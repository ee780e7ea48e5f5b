import { spawn } from "node:child_process";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { DEVELOPER, MAINTAINER, memberLevel, REPORTER } from "./access.js";
import type { Emulator } from "./context.js";
import { jobTokenUser } from "./job-token.js";
import { triggerForPushes } from "./pipeline-triggers.js";
import { protectedPushEnv, protectedPushHooks } from "./protected-push.js";
import { defaultBranch, ensureRepository, pathWithNamespace, recordPushes, refSnapshot, serialized } from "./repository.js";
import type { Scope, SimProject, SimUser } from "./state.js";
import { tokenOwner } from "./token-model.js";

export const GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend";

/** GitLab's answer to missing or wrong Basic credentials on a git request (Repositories::GitHttpClientController). */
const ACCESS_DENIED =
  "HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect or you're required to use a token instead of a password. If a token was provided, it was either incorrect, expired, or improperly scoped. See http://localhost/help/topics/git/troubleshooting_git.md#error-on-git-fetch-http-basic-access-denied\n";
const PROJECT_NOT_FOUND = "The project you were looking for could not be found or you don't have permission to view it.";
const NO_DOWNLOAD = "You are not allowed to download code from this project.";
const NO_PUSH = "You are not allowed to push code to this project.";

/** Gitlab::Auth#abilities_for_scopes, for the scopes the emulator models. */
const DOWNLOAD: readonly Scope[] = ["api", "read_api", "read_repository", "write_repository"];
const PUSH: readonly Scope[] = ["api", "write_repository"];

type Service = "git-upload-pack" | "git-receive-pack";

/** The smart-HTTP requests GitLab answers; the dumb protocol (objects/…, HEAD) it does not serve. */
function serviceOf(req: Request, rest: string): Service | undefined {
  if (req.method === "GET" && rest === "/info/refs") {
    const service = req.query.service;
    return service === "git-upload-pack" || service === "git-receive-pack" ? service : undefined;
  }
  if (req.method === "POST" && (rest === "/git-upload-pack" || rest === "/git-receive-pack")) return rest.slice(1) as Service;
  return undefined;
}

interface GitCaller {
  user: SimUser;
  scopes: readonly Scope[];
}

/**
 * HTTP Basic as GitLab takes it over HTTPS: the password is a personal or project access token, and
 * then the username is not checked (oauth2, the user's name…); or, with the username gitlab-ci-token,
 * a running job's CI_JOB_TOKEN, which clones with its pipeline user's role and never pushes (GitLab's
 * default: pushing with a job token is off).
 */
function basicCaller(emu: Emulator, req: Request): GitCaller | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(req.get("authorization") ?? "");
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  const password = decoded.slice(colon + 1);
  if (decoded.slice(0, colon) === "gitlab-ci-token") {
    const user = jobTokenUser(emu, password);
    if (user) return { user, scopes: ["read_repository"] };
  }
  const owner = tokenOwner(emu.state, password, emu.now());
  return owner ? { user: owner.user, scopes: owner.token.scopes } : undefined;
}

function plain(res: Response, status: number, text: string, headers: Record<string, string> = {}): void {
  res
    .status(status)
    .set({ "content-type": "text/plain; charset=utf-8", ...headers })
    .send(text);
}

/**
 * Git hosting at GitLab's URL shape, /<namespace>/<project>.git/(info/refs|git-upload-pack|git-receive-pack),
 * served by real git: `git http-backend` as a CGI, request and response bodies streamed. A push is
 * recorded as push events (ref, before, after) in the state, one per changed ref.
 */
export function gitHttp(emu: Emulator): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    // GitLab also answers the smart-HTTP paths without ".git" (git clone http://host/group/project).
    const m = /^\/(.+?)\.git(\/.*)?$/.exec(req.path) ?? /^\/(.+?)(\/info\/refs|\/git-upload-pack|\/git-receive-pack)$/.exec(req.path);
    if (!m?.[1]) {
      next();
      return;
    }
    const fullPath = m[1];
    const rest = m[2] ?? "";
    const service = serviceOf(req, rest);
    if (!service) {
      plain(res, 404, "Not Found");
      return;
    }
    const caller = basicCaller(emu, req);
    if (!caller) {
      plain(res, 401, ACCESS_DENIED, { "WWW-Authenticate": 'Basic realm="GitLab"' });
      return;
    }
    const project = emu.state.projects.find((p) => pathWithNamespace(emu, p).toLowerCase() === fullPath.toLowerCase());
    // The sim's projects are private: a non-member cannot see them (access.ts).
    const level = project && (caller.user.is_admin ? Number.POSITIVE_INFINITY : memberLevel(emu.state, caller.user, project.id));
    if (!project || level === undefined) {
      plain(res, 404, PROJECT_NOT_FOUND);
      return;
    }
    // download_code: Reporter; push_code: Developer (Gitlab::GitAccess), each also needing a scope that allows it.
    if (!caller.scopes.some((s) => DOWNLOAD.includes(s)) || level < REPORTER) {
      plain(res, 403, NO_DOWNLOAD);
      return;
    }
    if (service === "git-receive-pack" && (!caller.scopes.some((s) => PUSH.includes(s)) || level < DEVELOPER)) {
      plain(res, 403, NO_PUSH);
      return;
    }
    // Below Maintainer, the protected default branch is refused by receive-pack's hook (protected-push.ts).
    const guarded = level < MAINTAINER ? [`refs/heads/${defaultBranch(project)}`] : [];
    serve(emu, project, caller.user, service, rest, req, res, guarded).catch(next);
  };
}

async function serve(
  emu: Emulator,
  project: SimProject,
  user: SimUser,
  service: Service,
  rest: string,
  req: Request,
  res: Response,
  protectedRefs: readonly string[],
) {
  const dir = await ensureRepository(emu, project);
  const isPush = service === "git-receive-pack" && req.method === "POST";
  if (!isPush) {
    await runBackend(emu, project, user, rest, req, res, {});
    return;
  }
  const hookEnv = protectedRefs.length > 0 ? protectedPushEnv(await protectedPushHooks(emu.repoRoot), protectedRefs) : {};
  await serialized(dir, async () => {
    const before = await refSnapshot(dir);
    // Recorded before the response ends, so a client that pushed finds its events at once.
    await runBackend(emu, project, user, rest, req, res, hookEnv, async () => {
      const events = await recordPushes(emu, project, user, dir, before, await refSnapshot(dir));
      // Pipelines are evaluated after the push has answered (pipelineTriggersSettled awaits them).
      triggerForPushes(emu, project, events);
    });
  });
}

/** Runs git-http-backend for one request: the CGI environment from the request, stdin and stdout streamed. */
function runBackend(
  emu: Emulator,
  project: SimProject,
  user: SimUser,
  rest: string,
  req: Request,
  res: Response,
  extraEnv: NodeJS.ProcessEnv,
  beforeEnd: () => Promise<void> = async () => {},
): Promise<void> {
  const env: NodeJS.ProcessEnv = {
    ...extraEnv,
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    GIT_PROJECT_ROOT: emu.repoRoot,
    GIT_HTTP_EXPORT_ALL: "1",
    // GitLab's repository path, not the caller's spelling of it.
    PATH_INFO: `/${pathWithNamespace(emu, project)}.git${rest}`,
    REQUEST_METHOD: req.method,
    QUERY_STRING: new URL(req.originalUrl, "http://x").search.slice(1),
    REMOTE_USER: user.username,
    REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    ...(req.get("content-type") ? { CONTENT_TYPE: req.get("content-type") } : {}),
    ...(req.get("content-length") ? { CONTENT_LENGTH: req.get("content-length") } : {}),
    ...(req.get("content-encoding") ? { HTTP_CONTENT_ENCODING: req.get("content-encoding") } : {}),
    ...(req.get("git-protocol") ? { HTTP_GIT_PROTOCOL: req.get("git-protocol") } : {}),
  };
  return new Promise<void>((resolve, reject) => {
    // node:child_process rather than io's run: the CGI's stdin and stdout are streams of any size
    // (a push of a large repository), which run() would hold in memory. No shell is involved.
    const child = spawn(GIT_HTTP_BACKEND, [], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.stdin.on("error", () => {});
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on("data", (chunk: Buffer) => {
      if (headersDone) {
        if (!res.write(chunk)) {
          child.stdout.pause();
          res.once("drain", () => child.stdout.resume());
        }
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = headerEnd(head);
      if (!end) return;
      headersDone = true;
      writeCgiHeaders(res, head.subarray(0, end.at).toString("latin1"));
      const body = head.subarray(end.at + end.length);
      if (body.length > 0) res.write(body);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (!headersDone) {
        if (!res.headersSent) plain(res, 500, "git http-backend failed\n");
        reject(new Error(`git http-backend exited ${code} without a response: ${stderr.trim()}`));
        return;
      }
      beforeEnd().then(
        () => {
          res.end();
          resolve();
        },
        (err: unknown) => {
          res.end();
          reject(err);
        },
      );
    });
    // A client that goes away mid-transfer: stop the backend rather than leave it blocked on a pipe.
    res.on("close", () => {
      if (!res.writableFinished && child.exitCode === null) child.kill("SIGTERM");
    });
  });
}

function headerEnd(buf: Buffer): { at: number; length: number } | undefined {
  const crlf = buf.indexOf("\r\n\r\n");
  const lf = buf.indexOf("\n\n");
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { at: crlf, length: 4 };
  if (lf >= 0) return { at: lf, length: 2 };
  return undefined;
}

/** CGI response headers; "Status: 404 Not Found" sets the status. */
function writeCgiHeaders(res: Response, text: string): void {
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") res.status(Number.parseInt(value, 10) || 200);
    else res.setHeader(name, value);
  }
}
