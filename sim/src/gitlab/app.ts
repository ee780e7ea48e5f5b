import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { authenticate } from "./auth.js";
import type { Emulator } from "./context.js";
import { injectFaults } from "./faults.js";
import { ParamError } from "./params.js";
import { logRequests } from "./request-log.js";
import { controlRouter } from "./routes/control.js";
import { userRouter } from "./routes/user.js";

/**
 * The whole emulator as one express app:
 *   /api/v4/*  faults → request log → body parsing → auth → resource routers → 501 for the rest
 *   /-/sim/*   the control API (no auth, not logged, never faulted)
 */
export function buildApp(emu: Emulator, baseUrl: () => string): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", "extended");

  const api = express.Router();
  api.use(injectFaults(emu.faults));
  api.use(logRequests(emu.requests, emu.now));
  api.use(express.json({ limit: "1mb" }), express.urlencoded({ extended: true }));
  api.use(authenticate(emu));
  api.use(userRouter(baseUrl));
  api.use((req: Request, res: Response) => {
    res.status(501).json({
      message: "501 Not Implemented",
      error: `${req.method} /api/v4${req.path} is not implemented by the pifleet GitLab emulator (see the covered endpoints in sim/README.md)`,
    });
  });
  app.use("/api/v4", api);

  app.use("/-/sim", express.json(), controlRouter(emu));

  app.use((req: Request, res: Response) => {
    res.status(404).json({ message: "404 Not found", error: `${req.method} ${req.path}: the emulator serves /api/v4 and /-/sim only` });
  });
  app.use(errorHandler);
  return app;
}

/** Parameter errors become GitLab's 400 {"error": ...}; a malformed body 400; anything else 500 (logged). */
function errorHandler(err: unknown, _req: Request, res: Response, _next: NextFunction): void {
  if (res.headersSent) return;
  if (err instanceof ParamError) {
    res.status(400).json({ error: err.message });
    return;
  }
  const status = (err as { status?: unknown }).status;
  if (typeof status === "number" && status >= 400 && status < 500) {
    res.status(status).json({ message: `${status} Bad request - ${(err as Error).message}` });
    return;
  }
  process.stderr.write(`gitlab emulator: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  res.status(500).json({ message: "500 Internal Server Error" });
}
