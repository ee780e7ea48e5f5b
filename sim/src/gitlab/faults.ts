import { STATUS_CODES } from "node:http";
import { sleep } from "@pifleet/io";
import type { NextFunction, Request, RequestHandler, Response } from "express";

/**
 * Faults the control API queues for the next N /api/v4 requests (optionally only those whose
 * method and path match). Latency adds up and the request continues; the first matching status or
 * drop fault ends the request.
 */
export type FaultKind = "status" | "drop" | "latency";

export interface FaultRule {
  id: number;
  kind: FaultKind;
  /** How many more matching requests this fault hits. */
  remaining: number;
  status?: number;
  retryAfter?: number;
  delayMs?: number;
  method?: string;
  /** Matches when the request path (after /api/v4) starts with this, e.g. "/runners". */
  pathPrefix?: string;
}

export type FaultInput = Omit<FaultRule, "id">;

export class FaultQueue {
  private rules: FaultRule[] = [];
  private nextId = 1;

  add(input: FaultInput): FaultRule {
    const rule = { ...input, id: this.nextId++ };
    this.rules.push(rule);
    return rule;
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  clear(): void {
    this.rules = [];
  }

  /** The faults this request hits (each use counts down; exhausted rules drop out). */
  take(method: string, path: string): FaultRule[] {
    const hit: FaultRule[] = [];
    let ending = false;
    for (const rule of this.rules) {
      if (rule.remaining <= 0) continue;
      if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (rule.pathPrefix && !path.startsWith(rule.pathPrefix)) continue;
      if (rule.kind !== "latency") {
        if (ending) continue;
        ending = true;
      }
      rule.remaining -= 1;
      hit.push({ ...rule });
    }
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return hit;
  }
}

/** Applies queued faults to /api/v4 requests before anything else (auth included) sees them. */
export function injectFaults(faults: FaultQueue): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const hit = faults.take(req.method, req.path);
    const delay = hit.reduce((sum, f) => sum + (f.kind === "latency" ? (f.delayMs ?? 0) : 0), 0);
    if (delay > 0) await sleep(delay);
    const ending = hit.find((f) => f.kind !== "latency");
    if (!ending) {
      next();
      return;
    }
    if (ending.kind === "drop") {
      // A dropped connection: no status line at all, the client sees a socket reset / "other side closed".
      req.socket.destroy();
      return;
    }
    const status = ending.status ?? 500;
    if (status === 429) {
      // GitLab's Rack::Attack throttle answers in plain text with Retry-After.
      res
        .status(429)
        .set("Retry-After", String(ending.retryAfter ?? 1))
        .type("text/plain")
        .send("Retry later\n");
      return;
    }
    if (ending.retryAfter !== undefined) res.set("Retry-After", String(ending.retryAfter));
    res.status(status).json({ message: `${status} ${STATUS_CODES[status] ?? "Error"}` });
  };
}
