import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { modulesLoadedBy } from "./test-support/loaded-modules.js";

const examples = fileURLToPath(new URL("../../examples/", import.meta.url));

const repo = new URL("../../", import.meta.url).href;

/** The workspace folders (other than cli/) whose modules were loaded: "fleet", "counter-app/deploy", … */
function packagesIn(modules: string[]): string[] {
  const folders = modules
    .filter((url) => url.startsWith(repo) && !url.startsWith(`${repo}cli/`) && !url.includes("/node_modules/"))
    .map((url) => url.slice(repo.length).split(/\/(?:src|dist)\//)[0] as string);
  return [...new Set(folders)].sort();
}

describe("pifleet start-up: each command's modules load only when it runs", () => {
  it("--help and --version load no pifleet package", () => {
    for (const flag of ["--help", "--version"]) {
      const { code, modules } = modulesLoadedBy([flag]);
      expect(code, flag).toBe(0);
      expect(
        modules.some((url) => url.includes("/cli/dist/program.js")),
        "the listing works",
      ).toBe(true);
      expect(packagesIn(modules), flag).toEqual([]);
    }
  });

  it("validate loads the fleet package and nothing else of pifleet", () => {
    const { code, modules } = modulesLoadedBy(["validate", "--fleet", `${examples}fleet.yaml`]);
    expect(code).toBe(0);
    expect(packagesIn(modules)).toEqual(["fleet"]);
  });

  it("a subcommand's --help loads no pifleet package", () => {
    for (const args of [
      ["runners", "plan", "--help"],
      ["app", "deploy", "--help"],
      ["sim", "up", "--help"],
      ["configure", "--help"],
    ]) {
      const { code, modules } = modulesLoadedBy(args);
      expect(code, args.join(" ")).toBe(0);
      expect(packagesIn(modules), args.join(" ")).toEqual([]);
    }
  });
});
