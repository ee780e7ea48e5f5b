import type { NextFunction, Request, Response } from "express";

/**
 * GitLab (Grape) answers JSON as `Content-Type: application/json`, with no charset parameter, and
 * some clients compare the header exactly (python-gitlab 3.12's `== "application/json"` treats
 * anything else as a non-JSON answer). Express's res.json adds "; charset=utf-8" to string bodies,
 * so JSON goes out as bytes with GitLab's header instead.
 */
export function gitlabJsonContentType(_req: Request, res: Response, next: NextFunction): void {
  res.json = (body?: unknown) => {
    // setHeader, not res.set: express's set() would add the charset back.
    res.setHeader("content-type", "application/json");
    return res.send(Buffer.from(JSON.stringify(body) ?? "null", "utf8"));
  };
  next();
}
