/**
 * The first cycle in a directed graph, as the list of nodes walked, ending
 * where it started (a → b → a), or undefined. A self-edge gives [a, a].
 * Iterative, so a 10,000-job chain cannot overflow the stack.
 */
export function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  for (const start of [...edges.keys()].sort()) {
    if (state.has(start)) continue;
    const path: string[] = [];
    const stack: Array<{ node: string; next: number }> = [{ node: start, next: 0 }];
    state.set(start, "open");
    path.push(start);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { node: string; next: number };
      const targets = (edges.get(top.node) ?? []).filter((t) => edges.has(t));
      if (top.next >= targets.length) {
        state.set(top.node, "done");
        stack.pop();
        path.pop();
        continue;
      }
      const target = targets[top.next++] as string;
      const s = state.get(target);
      if (s === "open") return [...path.slice(path.indexOf(target)), target];
      if (s === undefined) {
        state.set(target, "open");
        path.push(target);
        stack.push({ node: target, next: 0 });
      }
    }
  }
  return undefined;
}
