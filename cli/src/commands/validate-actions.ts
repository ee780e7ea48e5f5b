import { DiagnosticsError, nodeConcurrency, tagsByNode } from "@pifleet/fleet";
import type { Command } from "commander";
import { globals, loadFleet } from "../context.js";
import { print, printJson, renderTable } from "../output.js";

export async function validate(cmd: Command): Promise<void> {
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
}
