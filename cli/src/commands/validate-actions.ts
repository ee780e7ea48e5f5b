import { DiagnosticsError, memoryBudget, type NodeBudget, tagsByNode } from "@pifleet/fleet";
import type { Command } from "commander";
import { globals, loadFleet } from "../context.js";
import { print, printJson, renderTable } from "../output.js";
import { budgetRows } from "./validate-render.js";

export async function validate(cmd: Command): Promise<void> {
  const g = globals(cmd);
  try {
    const { fleet, file, topology } = await loadFleet(cmd);
    const tags = tagsByNode(fleet);
    const budgets = memoryBudget(fleet, topology);
    const nodes = fleet.nodes.map((n, i) => {
      // memoryBudget lists the nodes in fleet order.
      const { node: _name, ...memory } = budgets[i] as NodeBudget;
      return {
        name: n.name,
        address: n.address,
        arch: n.arch,
        roles: n.roles,
        concurrency: memory.jobSlots,
        tags: tags.get(n.name) ?? [],
        memory,
      };
    });
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
    print();
    print("Memory budget (MiB): what each node runs against its memory; its job slots come from what is left.");
    print(renderTable(["node", "what", "MiB", "why"], budgetRows(budgets)));
  } catch (err) {
    if (g.json && err instanceof DiagnosticsError) {
      printJson({ valid: false, file: g.fleet, nodes: [], errors: err.diagnostics });
    }
    throw err;
  }
}
