import { parseArgs } from "node:util";
import { InputError, PifleetError } from "@pifleet/fleet";
import { runLoad } from "./probe.js";
import { renderLoadSummary } from "./summary.js";

/**
 * `npm run load -w counter-app/deploy -- URL [--workers 4] [--seconds 30] [--requests N] [--page load-probe] [--any-address]`:
 * a bounded load through URL (the VIP), then one line of figures. Exit 0 when no acknowledged
 * increment was lost, 1 when some were, 2 on bad input.
 */
try {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      workers: { type: "string", default: "4" },
      seconds: { type: "string", default: "30" },
      requests: { type: "string" },
      page: { type: "string", default: "load-probe" },
      "pause-ms": { type: "string", default: "0" },
      "any-address": { type: "boolean", default: false },
    },
  });
  const url = positionals[0];
  if (!url || positionals.length > 1)
    throw new InputError("expected exactly one URL", "e.g. npm run load -w counter-app/deploy -- http://198.19.1.250");
  const { summary } = await runLoad({
    url,
    page: values.page,
    workers: Number(values.workers),
    maxSeconds: Number(values.seconds),
    maxRequests: values.requests === undefined ? undefined : Number(values.requests),
    pauseMs: Number(values["pause-ms"]),
    anyAddress: values["any-address"],
  });
  console.log(renderLoadSummary(summary));
  process.exitCode = summary.lost > 0 ? 1 : 0;
} catch (err) {
  const badArgs = (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  const hint = err instanceof PifleetError && err.hint ? `\n${err.hint}` : "";
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}${hint}\n`);
  process.exitCode = err instanceof PifleetError ? err.exitCode : badArgs ? 2 : 1;
}
