/** What the HTML page shows; rendering is pure so it is unit-tested without a server. */
export interface PageView {
  page: string;
  views: number;
  node: string;
  replica: string;
  /** Views served per node, for the bar chart. */
  nodes: Record<string, number>;
}

export const PAGE_STYLE =
  "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:42rem;color:#1d2330}" +
  "h1{font-size:1.6rem}.count{font-size:3rem;font-weight:700;margin:.2rem 0}" +
  "dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{color:#5b6475}" +
  "svg text{font-size:13px;fill:#1d2330}rect.bar{fill:#2f7bd8}rect.bar.served{fill:#e07a1f}";

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

const BAR_HEIGHT = 22;
const CHART_WIDTH = 640;
const LABEL_WIDTH = 120;

/** Horizontal bars, one per node, sorted by name; the node that served this view is highlighted. */
export function renderChart(nodes: Record<string, number>, servedBy: string): string {
  const entries = Object.entries(nodes).sort(([a], [b]) => a.localeCompare(b));
  const max = Math.max(1, ...entries.map(([, n]) => n));
  const barSpace = CHART_WIDTH - LABEL_WIDTH - 70;
  const rows = entries.map(([name, n], i) => {
    const y = i * (BAR_HEIGHT + 6);
    const w = Math.max(1, Math.round((n / max) * barSpace));
    const cls = name === servedBy ? "bar served" : "bar";
    return (
      `<g data-node="${escapeHtml(name)}" data-views="${n}">` +
      `<text x="0" y="${y + 16}">${escapeHtml(name)}</text>` +
      `<rect class="${cls}" x="${LABEL_WIDTH}" y="${y}" width="${w}" height="${BAR_HEIGHT}"></rect>` +
      `<text x="${LABEL_WIDTH + w + 6}" y="${y + 16}">${n}</text></g>`
    );
  });
  const height = Math.max(1, entries.length) * (BAR_HEIGHT + 6);
  return `<svg id="nodes-chart" role="img" aria-label="views per node" width="${CHART_WIDTH}" height="${height}" viewBox="0 0 ${CHART_WIDTH} ${height}">${rows.join("")}</svg>`;
}

export function renderPage(v: PageView): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pifleet counter</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<h1>pifleet page-view counter</h1>
<p>This page has been viewed</p>
<p class="count" id="views">${v.views}</p>
<p>times. This view was counted by:</p>
<dl>
<dt>node</dt><dd id="node">${escapeHtml(v.node)}</dd>
<dt>replica</dt><dd id="replica">${escapeHtml(v.replica)}</dd>
</dl>
<h2>Views served per node</h2>
${renderChart(v.nodes, v.node)}
</body>
</html>
`;
}
