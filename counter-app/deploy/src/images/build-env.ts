/**
 * What an image build takes from where it runs (pure): the proxy for apt and
 * npm, and whether the Docker engine must emulate the target architecture.
 */
import { EnvironmentError } from "@pifleet/fleet";
import type { ImageArch } from "./recipe.js";

/**
 * Docker build args for the proxy apt uses inside the Debian-based builds:
 * `http_proxy`/`https_proxy` from `PIFLEET_BUILD_PROXY` when it is set and not
 * empty (the sim's apt-cacher-ng, for a job on a node that reaches nothing
 * else). Docker's predefined proxy args reach RUN without an ARG and stay out
 * of the image's history.
 */
export function proxyBuildArgs(env: NodeJS.ProcessEnv): Record<string, string> {
  const proxy = env.PIFLEET_BUILD_PROXY?.trim();
  return proxy ? { http_proxy: proxy, https_proxy: proxy } : {};
}

const NPM_PROXY_VARIABLES = ["npm_config_https_proxy", "npm_config_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"];

/**
 * The environment of the npm commands a build runs here (the Node binary's
 * package, the app's production dependencies): npm's own proxy settings when
 * any is set, else `PIFLEET_BUILD_PROXY` as npm's proxy.
 */
export function npmEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const proxy = env.PIFLEET_BUILD_PROXY?.trim();
  if (!proxy || NPM_PROXY_VARIABLES.some((name) => env[name])) return env;
  return { ...env, npm_config_proxy: proxy, npm_config_https_proxy: proxy };
}

/** The binfmt_misc entry (Debian's qemu-user-static) that runs a foreign architecture's binaries. */
export function qemuEntry(arch: ImageArch): string {
  return arch === "arm64" ? "qemu-aarch64" : "qemu-x86_64";
}

/**
 * Why building `target` on this engine cannot work, or undefined (pure). A
 * native build (the engine's architecture, as `docker version` names it, is
 * the target: an arm64 Pi building arm64) needs no emulation. A foreign one
 * needs qemu-user through binfmt_misc on the engine's machine, which can only
 * be checked when that machine is this one (no DOCKER_HOST).
 */
export function emulationProblem(
  target: ImageArch,
  engineArch: string,
  engine: { remote: boolean; binfmt: (entry: string) => boolean },
): EnvironmentError | undefined {
  if (engineArch === target || engine.remote) return undefined;
  const entry = qemuEntry(target);
  if (engine.binfmt(entry)) return undefined;
  return new EnvironmentError(
    `${target} images on this ${engineArch || "unknown-architecture"} Docker engine need qemu-user emulation, but binfmt_misc has no ${entry} entry`,
    `Build on a ${target} machine (natively), or run scripts/setup here (installs qemu-user-static and binfmt-support).`,
  );
}
