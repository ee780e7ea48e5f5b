/**
 * The job graph as Mermaid, for MR descriptions: one subgraph per stage, an
 * edge per need. Jobs without needs wait for the previous stage, which the
 * stage order already shows, so those implicit edges are not drawn.
 */
export function mermaidGraph(doc: Record<string, unknown>, jobs: ReadonlyMap<string, Record<string, unknown>>): string {
  const given = Array.isArray(doc.stages) ? doc.stages.map(String) : ["build", "test", "deploy"];
  const stages = [".pre", ...given, ".post"];
  const ids = new Map([...jobs.keys()].map((name, i) => [name, `j${i}`]));
  const label = (s: string) => s.replace(/"/g, "#quot;");
  const lines = ["graph LR"];
  stages.forEach((stage, si) => {
    const members = [...jobs].filter(([, b]) => String(b.stage ?? "test") === stage);
    if (members.length === 0) return;
    lines.push(`  subgraph s${si}["${label(stage)}"]`);
    for (const [name] of members) lines.push(`    ${ids.get(name)}["${label(name)}"]`);
    lines.push("  end");
  });
  for (const [name, body] of jobs) {
    const needs = Array.isArray(body.needs) ? body.needs : [];
    for (const n of needs) {
      const target = typeof n === "string" ? n : (n as { job?: unknown } | null)?.job;
      const from = typeof target === "string" ? ids.get(target) : undefined;
      if (from) lines.push(`  ${from} --> ${ids.get(name)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
