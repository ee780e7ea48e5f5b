/**
 * Page keys become Redis hash fields, so they are limited in length and
 * charset: a client cannot grow Redis with arbitrary or huge keys.
 */
export const PAGE_KEY = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function isValidPageKey(page: string): boolean {
  return PAGE_KEY.test(page);
}

/** Why a key was refused, for the 400 body. */
export const PAGE_KEY_RULE = "page must be 1-64 characters: lowercase letters, digits, _ and -, starting with a letter or digit";
