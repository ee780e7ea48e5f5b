import { STATUS_CODES } from "node:http";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { authenticate } from "./auth.js";
import type { Emulator } from "./context.js";
import { ApiError } from "./errors.js";
import { injectFaults } from "./faults.js";
import { gitHttp } from "./git-http.js";
import { gitlabJsonContentType } from "./json-content-type.js";
import { logRequests } from "./request-log.js";
import { accessTokensRouter } from "./routes/access-tokens.js";
import { controlRouter } from "./routes/control.js";
import { requireControlSecret } from "./routes/control-auth.js";
import { controlCiRouter } from "./routes/control-ci.js";
import { controlRunnersRouter } from "./routes/control-runners.js";
import { jobArtifactsRouter } from "./routes/job-artifacts.js";
import { jobsRequestRouter } from "./routes/jobs-request.js";
import { mergeRequestsRouter } from "./routes/merge-requests.js";
import { notesRouter } from "./routes/notes.js";
import { pipelinesRouter } from "./routes/pipelines.js";
import { projectRouter } from "./routes/projects.js";
import { repositoryRouter } from "./routes/repository.js";
import { runnerListRouter } from "./routes/runner-lists.js";
import { runnerVerifyRouter } from "./routes/runner-verify.js";
import { runnerRouter } from "./routes/runners.js";
import { userRouter } from "./routes/user.js";
import { userRunnersRouter } from "./routes/user-runners.js";
import { variablesRouter } from "./routes/variables.js";

/**
 * The whole emulator as one express app:
 *   /api/v4/*  faults → request log → body parsing → auth → resource routers → 501 for the rest
 *   /-/sim/*   the control API (the control secret, control-secret.ts; not logged, never faulted)
 */
export function buildApp(emu: Emulator, controlSecret: string): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", "extended");
  app.use(gitlabJsonContentType);

  const api = express.Router();
  api.use(injectFaults(emu.faults));
  api.use(logRequests(emu.requests, emu.now));
  api.use(express.json({ limit: "10mb" }), express.urlencoded({ extended: true, limit: "10mb" }));
  // Runner- and job-facing: authenticated by the runner token in the body or the job token (artifact
  // downloads take a job token or a personal one), before the personal-token-only routes.
  api.use(runnerVerifyRouter(emu), jobsRequestRouter(emu), jobArtifactsRouter(emu));
  api.use(authenticate(emu));
  api.use(userRouter(emu), userRunnersRouter(emu), runnerListRouter(emu), runnerRouter(emu), notesRouter(emu));
  api.use(variablesRouter(emu), pipelinesRouter(emu));
  api.use(repositoryRouter(emu), mergeRequestsRouter(emu), accessTokensRouter(emu), projectRouter(emu));
  api.use((req: Request, res: Response) => {
    res.status(501).json({
      message: "501 Not Implemented",
      error: `${req.method} /api/v4${req.path} is not implemented by the pifleet GitLab emulator (see the covered endpoints in sim/README.md)`,
    });
  });
  app.use("/api/v4", api);

  app.use("/-/sim", requireControlSecret(controlSecret));
  app.use("/-/sim", express.json(), controlRouter(emu), controlRunnersRouter(emu));
  app.use("/-/sim", express.json(), controlCiRouter(emu));
  // Git smart HTTP at /<namespace>/<project>.git/… (git-http.ts): bodies stay streams, no parser before it.
  app.use(gitHttp(emu));

  app.use((req: Request, res: Response) => {
    res.status(404).json({ message: "404 Not found", error: `${req.method} ${req.path}: the emulator serves /api/v4 and /-/sim only` });
  });
  app.use(errorHandler);
  return app;
}

/** GitLab-shaped errors thrown by routes go out as they are; a malformed body is a 400; anything else a logged 500. */
function errorHandler(err: unknown, _req: Request, res: Response, _next: NextFunction): void {
  if (res.headersSent) return;
  if (err instanceof ApiError) {
    res.status(err.status).set(err.headers).json(err.body);
    return;
  }
  const status = (err as { status?: unknown }).status;
  if (typeof status === "number" && status >= 400 && status < 500) {
    // body-parser's errors: malformed JSON (400), body too large (413). JSON.parse quotes the body in
    // its message, and the body may carry a secret (a masked variable's value): never echo it.
    const parseFailed = (err as { type?: unknown }).type === "entity.parse.failed";
    const detail = parseFailed ? "the request body is not valid JSON" : (err as Error).message;
    res.status(status).json({ message: `${status} ${STATUS_CODES[status] ?? "Bad request"} - ${detail}` });
    return;
  }
  process.stderr.write(`gitlab emulator: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  res.status(500).json({ message: "500 Internal Server Error" });
}
