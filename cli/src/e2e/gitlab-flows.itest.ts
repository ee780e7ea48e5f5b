import { afterAll, beforeAll } from "vitest";
import { baselineFlow } from "./flows/baseline.js";
import { ciViewFlow } from "./flows/ci-view.js";
import { engineFlow } from "./flows/engine.js";
import { firstRunFlow } from "./flows/first-run.js";
import { mrCredentialsFlow } from "./flows/mr-credentials.js";
import { mrScaleFlow } from "./flows/mr-scale.js";
import { rollingFlow } from "./flows/rolling.js";
import { sharedSim, simDownShared, simUpShared } from "./shared-sim.js";

// The end-to-end flows on ONE simulated fleet (4 Pi-like nodes and the GitLab emulator), in the order a
// person meets them: the first run (bootstrap and image mirror), a pipeline pushed to the project, the
// baseline deployed by `sim push`, merge-request review with scaling out and in, an MR whose own YAML
// tries to reach the fleet's credentials, the live view, then a change that needs a reboot and an
// engine restart on every node, rolled under load.
//
// Why sharing is honest: each flow is what happens, in this order, to one fleet in real life, and each
// asserts on what it did itself (its own pipelines, notes, runners and views), not on a fresh fleet.
// Where one flow leaves something that another could see, it removes it (the view test's runner, the
// engine test's variable) or restores it (paused runners are unpaused; the fifth Pi leaves the fleet).
// What is shared on purpose: the bootstrap, the mirror's images, the deployed baseline. Bringing each of
// those up per file cost minutes each (a 4-node bootstrap and a baseline deploy alone take ~10 min here).
const s = sharedSim();

beforeAll(() => simUpShared(s, 4), 10 * 60_000);
afterAll(() => simDownShared(s), 10 * 60_000);

firstRunFlow(s);
engineFlow(s);
baselineFlow(s);
// The MR flows come right after the baseline: their plans read the observation of the latest green
// default-branch pipeline, and the live view's hand-made pipelines on main (control API, no fleet-observe)
// would be the latest green one.
mrScaleFlow(s);
mrCredentialsFlow(s);
ciViewFlow(s);
rollingFlow(s);
