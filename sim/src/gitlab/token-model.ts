import type { SimState, SimToken, SimUser } from "./state.js";

/** A token works until it is revoked or its expires_at day begins (UTC), as GitLab's PersonalAccessToken#active? says. */
export function tokenActive(t: SimToken, now: Date): boolean {
  return !t.revoked && (!t.expires_at || now.toISOString().slice(0, 10) < t.expires_at);
}

/** The active personal or project access token with this secret, and its user; undefined when there is none. */
export function tokenOwner(state: SimState, secret: string, now: Date): { token: SimToken; user: SimUser } | undefined {
  const token = state.tokens.find((t) => t.token === secret && tokenActive(t, now));
  const user = token ? state.users.find((u) => u.id === token.user_id) : undefined;
  return token && user ? { token, user } : undefined;
}

/** Entities::PersonalAccessToken: what GitLab shows of a token (never its secret). */
export function presentToken(t: SimToken, now: Date) {
  return {
    id: t.id,
    name: t.name,
    revoked: t.revoked,
    created_at: t.created_at ?? null,
    description: t.description ?? null,
    scopes: t.scopes,
    user_id: t.user_id,
    last_used_at: null,
    active: tokenActive(t, now),
    expires_at: t.expires_at ?? null,
  };
}
