type Table = Record<string, unknown>;

/**
 * What a block's `token` holds in a redacted observation. The field stays (with this value) because the
 * planner keeps a block's token when it rewrites the block and refuses a block without one; the
 * same marker on both sides of a plan compares equal, so the plan is the one of the real file.
 * token_obtained_at and token_expires_at are dates, not secrets: kept, so a token reset plans the same.
 */
export const REDACTED = "[redacted]";

/**
 * Keys whose value is a credential in gitlab-runner's config.toml: `token`, the cache's `SecretKey`,
 * `AccessKey`, `AccountKey`, `CredentialsFile` content, `password`, docker's `auth`… Dates and types about a
 * token (`token_obtained_at`, `token_expires_at`) are not.
 */
const SECRET_KEY = /token|secret|passw(?:or)?d|credential|private[_-]?key|access[_-]?key|account[_-]?key|^auth$/i;
const NOT_SECRET_KEY = /_at$|_type$|_file$/i;

/** `environment = ["NAME=value"]`: the names stay (they show what a job gets), every value goes. */
const redactEnvironment = (entries: unknown[]) =>
  entries.map((e) => (typeof e === "string" && e.includes("=") ? `${e.slice(0, e.indexOf("="))}=${REDACTED}` : e));

/**
 * A parsed config.toml with every credential replaced by REDACTED: each [[runners]] block's token, pifleet's
 * or not, the cache's and docker's credentials at any depth, the values of `environment`. Pure.
 */
export function redactConfig(table: Table): Table {
  return Object.fromEntries(
    Object.entries(table).map(([k, v]): [string, unknown] => {
      if (k === "environment" && Array.isArray(v)) return [k, redactEnvironment(v)];
      if (typeof v === "string") return [k, SECRET_KEY.test(k) && !NOT_SECRET_KEY.test(k) ? REDACTED : v];
      if (Array.isArray(v)) return [k, v.map((x) => (x !== null && typeof x === "object" ? redactConfig(x as Table) : x))];
      if (v !== null && typeof v === "object" && !(v instanceof Date)) return [k, redactConfig(v as Table)];
      return [k, v];
    }),
  );
}
