import { stderr, stdout } from "node:process";

/** Colour only when the stream is a terminal and NO_COLOR is unset. */
export function useColour(stream: NodeJS.WriteStream = stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== "dumb";
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, dim: 2, bold: 1 } as const;
export type Colour = keyof typeof CODES;

export function paint(text: string, colour: Colour, stream: NodeJS.WriteStream = stdout): string {
  return useColour(stream) ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text;
}

export function printJson(value: unknown): void {
  stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function print(text = ""): void {
  stdout.write(`${text}\n`);
}

/** Logs and progress go to stderr so stdout stays clean for --json. */
export function info(text: string): void {
  stderr.write(`${text}\n`);
}

/** Something the person should change, on stderr; the command goes on. */
export function warn(text: string): void {
  info(`${paint("warning:", "yellow", stderr)} ${text}`);
}

const visibleLength = (s: string): number => s.replace(/\u001b\[[0-9;]*m/g, "").length;

/** A plain aligned table, like kubectl get: header row, then one row per item. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ""))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat((widths[i] ?? 0) - visibleLength(c))))
      .join("  ")
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...rows.map(line)].join("\n");
}
