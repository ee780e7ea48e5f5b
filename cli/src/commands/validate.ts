import { DiagnosticsError, nodeConcurrency, tagsByNode } from "@pifleet/fleet";
import type { Command } from "commander";
import { globals, loadFleet } from "../context.js";
import { print, printJson, renderTable } from "../output.js";

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("check fleet.yaml and show what it derives: node roles, job capacity and runner tags")
    .addHelpText(
      "after",
      `
Every problem is reported at once as FILE:LINE:COL: message, and the exit code is 2.
With --json, stdout is {"valid": bool, "file", "nodes": [...], "errors": [...]}.

Examples:
  $ pifleet validate --fleet examples/fleet.yaml
  $ pifleet validate --json | jq '.nodes[].tags'`,
    )
    .action(async (_opts, cmd: Command) => {
      const g = globals(cmd);
      try {
        const { fleet, file } = await loadFleet(cmd);
        const tags = tagsByNode(fleet);
        const nodes = fleet.nodes.map((n) => ({
          name: n.name,
          address: n.address,
          arch: n.arch,
          roles: n.roles,
          concurrency: nodeConcurrency(fleet, n),
          tags: tags.get(n.name) ?? [],
        }));
        if (g.json) {
          printJson({ valid: true, file, cluster: fleet.cluster, nodes, errors: [] });
          return;
        }
        print(`${g.fleet}: valid — cluster ${fleet.cluster}, ${fleet.nodes.length} nodes, ${fleet.pools.length} runner pools`);
        print();
        print(
          renderTable(
            ["node", "address", "arch", "roles", "jobs", "tags"],
            nodes.map((n) => [n.name, n.address, n.arch, n.roles.join(","), String(n.concurrency), n.tags.join(",") || "-"]),
          ),
        );
      } catch (err) {
        if (g.json && err instanceof DiagnosticsError) {
          printJson({ valid: false, file: g.fleet, nodes: [], errors: err.diagnostics });
        }
        throw err;
      }
    });
}
