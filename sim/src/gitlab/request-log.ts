import type { NextFunction, Request, RequestHandler, Response } from "express";

export interface LoggedRequest {
  method: string;
  /** Path under /api/v4, without the query string: "/runners/3". */
  path: string;
  status: number;
  at: string;
}

/** Keeps the most recent entries so a long-running sim does not grow without bound. */
const MAX_ENTRIES = 2000;

/** "/runners/12/jobs" → "/runners/:id/jobs": numeric path segments become :id, so counts group by route. */
export function routeOf(path: string): string {
  return path.replace(/\/\d+(?=\/|$)/g, "/:id");
}

const bump = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);

/** Counts /api/v4 requests per "METHOD /path" and per "METHOD /route" so tests can measure how chatty a client is. */
export class RequestLog {
  private entries: LoggedRequest[] = [];
  private byEndpoint = new Map<string, number>();
  private byRoute = new Map<string, number>();
  private total = 0;

  record(entry: LoggedRequest): void {
    this.total += 1;
    bump(this.byEndpoint, `${entry.method} ${entry.path}`);
    bump(this.byRoute, `${entry.method} ${routeOf(entry.path)}`);
    this.entries.push(entry);
    if (this.entries.length > MAX_ENTRIES) this.entries.shift();
  }

  snapshot(): { total: number; byEndpoint: Record<string, number>; byRoute: Record<string, number>; recent: LoggedRequest[] } {
    return {
      total: this.total,
      byEndpoint: Object.fromEntries(this.byEndpoint),
      byRoute: Object.fromEntries(this.byRoute),
      recent: [...this.entries],
    };
  }

  reset(): void {
    this.entries = [];
    this.byEndpoint.clear();
    this.byRoute.clear();
    this.total = 0;
  }
}

/** Records each /api/v4 request once its answer is known (dropped connections count too, as status 0). */
export function logRequests(log: RequestLog, now: () => Date): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const method = req.method;
    const path = req.path;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      log.record({ method, path, status: res.headersSent ? res.statusCode : 0, at: now().toISOString() });
    };
    res.on("finish", finish);
    res.on("close", finish);
    next();
  };
}
