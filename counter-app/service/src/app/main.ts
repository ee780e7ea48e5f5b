import { pino } from "pino";
import { ConfigError, loadConfig } from "./config.js";
import { startCounterApp } from "./server.js";

/** Process entry: `npm start -w counter-app/service` and the image's CMD. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`counter-app: ${err.message}\nSet these variables and start again.\n`);
    process.exit(2);
  }
  const log = pino({ level: config.logLevel, base: { node: config.nodeName, replica: config.replicaId } });
  const app = await startCounterApp(config, log);
  const stop = (signal: NodeJS.Signals) => {
    const force = setTimeout(() => {
      log.error({ event: "app.shutdown.timeout", ms: config.shutdownTimeoutMs }, "shutdown took too long; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    app.shutdown(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ event: "app.shutdown.error", err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`counter-app: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
