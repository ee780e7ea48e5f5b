import { loadFleetFile } from "@pifleet/fleet";
import { run, sleep } from "@pifleet/io";
import autocannon from "autocannon";
import { appTopology } from "../deploy/cluster.js";
import { deployStack } from "../deploy/deploy.js";
import { buildImages } from "../images/build.js";
import { IMAGE_LABEL } from "../images/recipe.js";
import { isLoadableAddress } from "../load/target.js";

/**
 * `npm run bench:rollout -w counter-app/deploy -- FLEET_FILE`: on a deployed stack,
 * rolls out (1) a new app version (the current image plus a label) and then
 * (2) a broken one (exits at start), each under load through the load
 * balancer, and prints requests, failures and counts. Prints figures only.
 * Loads only loopback or 198.18.0.0/15 (the sim) unless PIFLEET_BENCH_ANY_ADDRESS=1.
 */
const CONNECTIONS = 10;
const MAX_SECONDS = 300;

function allowed(address: string): boolean {
  return process.env.PIFLEET_BENCH_ANY_ADDRESS === "1" || isLoadableAddress(address);
}

const fleetFile = process.argv[2];
if (!fleetFile) {
  process.stderr.write("usage: npm run bench:rollout -w counter-app/deploy -- FLEET_FILE (a sim's fleet.yaml with the stack deployed)\n");
  process.exit(2);
}
const { fleet, topology } = await loadFleetFile(fleetFile);
const lb = appTopology(fleet, topology).loadBalancer;
if (!allowed(lb.address)) {
  process.stderr.write(`refusing to load ${lb.address}: not loopback or 198.18.0.0/15 (set PIFLEET_BENCH_ANY_ADDRESS=1 for real Pis)\n`);
  process.exit(2);
}
const base = lb.url;
const { tags } = await buildImages("amd64", { progress: (m) => process.stderr.write(`${m}\n`) });
const variants = {
  "new version": {
    tag: `${tags.app.split(":")[0]}:${tags.app.split(":")[1]}-bench-v2`,
    dockerfile: `FROM ${tags.app}\nLABEL pifleet.bench=v2\n`,
  },
  "broken version": {
    tag: `${tags.app.split(":")[0]}:${tags.app.split(":")[1]}-bench-broken`,
    dockerfile: `FROM ${tags.app}\nCMD ["node", "-e", "process.exit(1)"]\n`,
  },
};
const views = async () =>
  ((await (await fetch(`${base}/api/stats`)).json()) as { pages: Record<string, number> }).pages["bench-rollout"] ?? 0;

try {
  for (const [name, v] of Object.entries(variants)) {
    await run("docker", ["build", "-q", "-t", v.tag, "--label", `${IMAGE_LABEL}=bench`, "-"], {
      input: v.dockerfile,
      env: { ...process.env, DOCKER_BUILDKIT: "0" },
    });
    const before = await views();
    let finished: (r: autocannon.Result) => void = () => {};
    const done = new Promise<autocannon.Result>((resolve) => {
      finished = resolve;
    });
    const load = autocannon(
      { url: `${base}/api/views/bench-rollout`, connections: CONNECTIONS, duration: MAX_SECONDS, timeout: 5 },
      (_err, r) => finished(r),
    );
    const result = await deployStack({ built: { ...tags, app: v.tag } }, { fleet, progress: (m) => process.stderr.write(`${m}\n`) });
    load.stop();
    const r = await done;
    await sleep(1000);
    const counted = (await views()) - before;
    console.log(
      `${name}: ${result.outcome} in ${result.seconds.toFixed(0)} s; under load ${r["2xx"]} 2xx, ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts; ` +
        `counted ${counted} (at most ${CONNECTIONS} requests in flight when the load stopped are counted without an answer)`,
    );
  }
  // Back to the version the bench started from.
  await deployStack({ built: tags }, { fleet, progress: (m) => process.stderr.write(`${m}\n`) });
} finally {
  for (const v of Object.values(variants)) await run("docker", ["rmi", v.tag], { allowFailure: true });
}
