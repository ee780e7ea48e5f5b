import { stderr } from "node:process";

/**
 * Live progress for long commands: a redrawn status line on a terminal,
 * plain timestamped lines otherwise (CI logs). Always on stderr.
 */
export interface Progress {
  /** A step started or moved on; replaces the live line on a TTY. */
  update(message: string): void;
  /** A line that stays (a result, a warning). */
  log(message: string): void;
  /** Ends the live line. */
  done(message?: string): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export function createProgress(options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = options.stream ?? stderr;
  if (options.quiet) return { update() {}, log() {}, done() {} };
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  if (!stream.isTTY) {
    const stamp = () => new Date().toISOString();
    // A log line per update, but not the same status again: Ansible reports a handler flush once per host.
    let last = "";
    return {
      update: (m) => {
        if (m !== last) stream.write(`${stamp()} ${m}\n`);
        last = m;
      },
      log: (m) => stream.write(`${stamp()} ${m}\n`),
      done: (m) => {
        if (m) stream.write(`${stamp()} ${m} (${elapsed()})\n`);
      },
    };
  }
  let current = "";
  let frame = 0;
  const draw = () => {
    const text = `${FRAMES[frame % FRAMES.length]} ${current} ${elapsed()}`;
    stream.write(`\r\u001b[2K${text.slice(0, (stream.columns ?? 100) - 1)}`);
  };
  const timer = setInterval(() => {
    frame++;
    draw();
  }, 100);
  timer.unref();
  return {
    update(m) {
      current = m;
      draw();
    },
    log(m) {
      stream.write(`\r\u001b[2K${m}\n`);
      draw();
    },
    done(m) {
      clearInterval(timer);
      stream.write(`\r\u001b[2K${m ? `${m} (${elapsed()})\n` : ""}`);
    },
  };
}
