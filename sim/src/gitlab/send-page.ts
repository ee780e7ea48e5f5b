import type { Request, Response } from "express";
import { keysetPaginate, pageRequest, paginate } from "./pagination.js";
import { enumParam, type Params, stringParam } from "./params.js";

/** The URL the client asked for: the base of every Link header. */
function requestUrl(req: Request): URL {
  return new URL(`${req.protocol}://${req.get("host") ?? "localhost"}${req.originalUrl}`);
}

/** Answers a list request with one page of `all` and GitLab's pagination headers. */
export function sendPage<T>(req: Request, res: Response, params: Params, all: readonly T[], present: (item: T) => unknown): void {
  const page = paginate(all, pageRequest(params), requestUrl(req));
  res.set(page.headers).json(page.items.map(present));
}

/**
 * For endpoints that also page by cursor (paginate_with_strategies): `pagination=keyset` selects the
 * cursor pager, anything else the offset pager. `all` must be in the order the answer uses.
 */
export function sendPageWithStrategies<T extends { id: number }>(
  req: Request,
  res: Response,
  params: Params,
  all: readonly T[],
  descending: boolean,
  present: (item: T) => unknown,
): void {
  if (enumParam(params, "pagination", ["offset", "keyset"] as const) !== "keyset") {
    sendPage(req, res, params, all, present);
    return;
  }
  const page = keysetPaginate(all, pageRequest(params).perPage, stringParam(params, "cursor"), descending, requestUrl(req));
  res.set(page.headers).json(page.items.map(present));
}
