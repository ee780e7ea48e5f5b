import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { mermaidGraph } from "./graph.js";
import { lintText } from "./lint/lint.js";

describe("mermaidGraph", () => {
  it("draws stages as subgraphs and needs as edges, quoting names Mermaid would misread", () => {
    const text = [
      "stages: [build, deploy]",
      "build: { stage: build, script: [x] }",
      "deploy:pi1: { stage: deploy, needs: [build], script: [x] }",
    ].join("\n");
    const { jobs } = lintText(text, "x.yml");
    expect(mermaidGraph(parse(text), jobs)).toBe(
      [
        "graph LR",
        '  subgraph s1["build"]',
        '    j0["build"]',
        "  end",
        '  subgraph s2["deploy"]',
        '    j1["deploy:pi1"]',
        "  end",
        "  j0 --> j1",
        "",
      ].join("\n"),
    );
  });
});
