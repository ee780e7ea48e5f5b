/**
 * The one POSIX shell quoter. Its output is read by dash (the remote /bin/sh on
 * Debian and Raspberry Pi OS) as well as bash, so it uses single quotes only:
 * zx's own quoter emits bash's $'…', which dash passes through literally.
 */

/** Words made only of these characters mean the same to every POSIX shell unquoted. */
const PLAIN_WORD = /^[A-Za-z0-9_./:=@%+-]+$/;

/** One word for a POSIX shell: unchanged when plain, else in single quotes ('\'' for a quote inside). */
export function shellQuote(word: string): string {
  return PLAIN_WORD.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A command line a POSIX shell splits back into exactly argv. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
