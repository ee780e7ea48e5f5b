import { describe, expect, it } from "vitest";
import { pageCsp } from "./headers.js";
import { PAGE_STYLE, renderChart, renderPage } from "./page.js";

describe("renderPage", () => {
  const html = renderPage({ page: "home", views: 42, node: "pi2", replica: "abc123", nodes: { pi1: 10, pi2: 20 } });

  it("shows the count, the serving node and replica", () => {
    expect(html).toContain('<p class="count" id="views">42</p>');
    expect(html).toContain('<dd id="node">pi2</dd>');
    expect(html).toContain('<dd id="replica">abc123</dd>');
  });

  it("draws one bar per node, scaled to the busiest, highlighting the serving node", () => {
    expect(html).toContain('data-node="pi1" data-views="10"');
    expect(html).toContain('data-node="pi2" data-views="20"');
    expect(html).toMatch(/<rect class="bar" x="120" y="0" width="225"/);
    expect(html).toMatch(/<rect class="bar served" x="120" y="28" width="450"/);
  });

  it("escapes names", () => {
    expect(renderChart({ "<script>": 1 }, "x")).toContain("&lt;script&gt;");
    expect(renderChart({ "<script>": 1 }, "x")).not.toContain("<script>");
  });

  it("uses exactly the stylesheet its CSP hash allows", () => {
    expect(html).toContain(`<style>${PAGE_STYLE}</style>`);
    expect(pageCsp(PAGE_STYLE)).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]{44}'/);
    expect(pageCsp(PAGE_STYLE)).not.toContain("script-src");
  });
});
