import { paramError } from "./errors.js";
import { intParam, type Params } from "./params.js";

export const DEFAULT_PER_PAGE = 20;
export const MAX_PER_PAGE = 100;

export interface PageRequest {
  page: number;
  perPage: number;
}

/** page defaults to 1, per_page to 20; per_page above 100 is capped at 100, as GitLab does. */
export function pageRequest(p: Params): PageRequest {
  const page = intParam(p, "page") ?? 1;
  const perPage = intParam(p, "per_page") ?? DEFAULT_PER_PAGE;
  if (page < 1) throw paramError("page is invalid");
  if (perPage < 1) throw paramError("per_page is invalid");
  return { page, perPage: Math.min(perPage, MAX_PER_PAGE) };
}

export interface Page<T> {
  items: T[];
  headers: Record<string, string>;
}

/**
 * Offset pagination with GitLab's headers: x-total, x-total-pages (at least 1), x-page, x-per-page,
 * x-next-page / x-prev-page (empty when none) and a Link header with prev/next/first/last built from
 * the request URL and its query (page and per_page replaced).
 */
export function paginate<T>(all: readonly T[], req: PageRequest, url: URL): Page<T> {
  const total = all.length;
  const totalPages = Math.max(1, Math.ceil(total / req.perPage));
  const start = (req.page - 1) * req.perPage;
  const items = all.slice(start, start + req.perPage);
  const next = req.page < totalPages ? req.page + 1 : undefined;
  const prev = req.page > 1 ? Math.min(req.page - 1, totalPages) : undefined;
  const linkTo = (page: number) => {
    const u = new URL(url);
    u.searchParams.set("page", String(page));
    u.searchParams.set("per_page", String(req.perPage));
    return u.toString();
  };
  const links = [
    ...(prev ? [`<${linkTo(prev)}>; rel="prev"`] : []),
    ...(next ? [`<${linkTo(next)}>; rel="next"`] : []),
    `<${linkTo(1)}>; rel="first"`,
    `<${linkTo(totalPages)}>; rel="last"`,
  ];
  return {
    items,
    headers: {
      "x-total": String(total),
      "x-total-pages": String(totalPages),
      "x-page": String(req.page),
      "x-per-page": String(req.perPage),
      "x-next-page": next ? String(next) : "",
      "x-prev-page": prev ? String(prev) : "",
      link: links.join(", "),
    },
  };
}

/** GitLab's cursors are opaque to clients: here base64url of the last id of the page, as `{"id": "…"}`. */
export function encodeCursor(lastId: number): string {
  return Buffer.from(JSON.stringify({ id: String(lastId) })).toString("base64url");
}

function decodeCursor(cursor: string): number {
  try {
    const id = Number((JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { id?: unknown }).id);
    if (Number.isInteger(id)) return id;
  } catch {
    // fall through: a cursor this server did not write
  }
  throw paramError("cursor is invalid");
}

/**
 * Cursor-based keyset pagination (Gitlab::Pagination::Keyset::CursorPager, `pagination=keyset`):
 * `all` is already in id order (`descending` says which way); a page starts after the cursor's id.
 * The only header is a Link rel="next" carrying the request's parameters plus the next cursor, and
 * only when more records follow: no x-total, x-page or offset links.
 */
export function keysetPaginate<T extends { id: number }>(
  all: readonly T[],
  perPage: number,
  cursor: string | undefined,
  descending: boolean,
  url: URL,
): Page<T> {
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const rest = after === undefined ? all : all.filter((x) => (descending ? x.id < after : x.id > after));
  const items = rest.slice(0, perPage);
  const last = items.at(-1);
  if (rest.length <= perPage || !last) return { items, headers: {} };
  const next = new URL(url);
  next.searchParams.set("cursor", encodeCursor(last.id));
  return { items, headers: { link: `<${next.toString()}>; rel="next"` } };
}
