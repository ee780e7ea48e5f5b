import type { Request, Response } from "express";
import { pageRequest, paginate } from "./pagination.js";
import type { Params } from "./params.js";

/** Answers a list request with one page of `all` and GitLab's pagination headers. */
export function sendPage<T>(req: Request, res: Response, params: Params, all: readonly T[], present: (item: T) => unknown): void {
  const url = new URL(`${req.protocol}://${req.get("host") ?? "localhost"}${req.originalUrl}`);
  const page = paginate(all, pageRequest(params), url);
  res.set(page.headers).json(page.items.map(present));
}
