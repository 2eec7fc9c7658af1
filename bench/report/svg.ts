// A small SVG chart of a run, drawn by hand: bar panels (throughput, accept rate, latency) and a line
// panel (resident memory over time). No chart library: the report must render anywhere.

export interface Bar {
  label: string;
  value: number;
  /** Highlights Herald's own bars against the references. */
  herald?: boolean;
}

export interface Series {
  label: string;
  points: [number, number][];
}

export type Panel =
  | { kind: 'bars'; title: string; unit: string; bars: Bar[] }
  | { kind: 'lines'; title: string; unit: string; xUnit: string; series: Series[] };

const WIDTH = 460;
const HEIGHT = 250;
const COLORS = ['#2563eb', '#d97706', '#059669', '#dc2626', '#7c3aed', '#0891b2'];

const esc = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const fmt = (n: number) => (n >= 100 ? Math.round(n).toString() : n >= 10 ? n.toFixed(1) : n.toFixed(2));

function barPanel(panel: Extract<Panel, { kind: 'bars' }>): string {
  const max = Math.max(1e-9, ...panel.bars.map((b) => b.value));
  const left = 150;
  const plotWidth = WIDTH - left - 60;
  const rowHeight = Math.min(34, (HEIGHT - 50) / Math.max(1, panel.bars.length));
  const rows = panel.bars.map((bar, i) => {
    const y = 40 + i * rowHeight;
    const w = Math.max(1, (bar.value / max) * plotWidth);
    return [
      `<text x="${left - 8}" y="${y + rowHeight / 2 + 4}" text-anchor="end">${esc(bar.label)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowHeight - 8}" fill="${bar.herald ? COLORS[0] : '#9ca3af'}"/>`,
      `<text x="${left + w + 6}" y="${y + rowHeight / 2 + 4}">${fmt(bar.value)}</text>`,
    ].join('');
  });
  return `<text x="10" y="20" font-weight="bold">${esc(panel.title)}</text><text x="10" y="34" fill="#6b7280">${esc(panel.unit)}</text>${rows.join('')}`;
}

function linePanel(panel: Extract<Panel, { kind: 'lines' }>): string {
  const points = panel.series.flatMap((s) => s.points);
  const maxX = Math.max(1, ...points.map((p) => p[0]));
  const maxY = Math.max(1, ...points.map((p) => p[1])) * 1.1;
  const [left, top, right, bottom] = [50, 40, WIDTH - 20, HEIGHT - 30];
  const x = (v: number) => left + (v / maxX) * (right - left);
  const y = (v: number) => bottom - (v / maxY) * (bottom - top);
  const lines = panel.series.map((s, i) => {
    const d = s.points
      .map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`)
      .join('');
    return (
      `<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5"/>` +
      `<text x="${right - 4}" y="${top + 14 * i}" text-anchor="end" fill="${COLORS[i % COLORS.length]}">${esc(s.label)}</text>`
    );
  });
  const axes =
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#9ca3af"/>` +
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#9ca3af"/>` +
    `<text x="${left - 4}" y="${top + 4}" text-anchor="end">${fmt(maxY)}</text>` +
    `<text x="${left - 4}" y="${bottom}" text-anchor="end">0</text>` +
    `<text x="${right}" y="${bottom + 16}" text-anchor="end">${fmt(maxX)} ${esc(panel.xUnit)}</text>`;
  return `<text x="10" y="20" font-weight="bold">${esc(panel.title)}</text><text x="10" y="34" fill="#6b7280">${esc(panel.unit)}</text>${axes}${lines.join('')}`;
}

/** Panels two to a row. */
export function renderChart(title: string, panels: Panel[]): string {
  const columns = 2;
  const rows = Math.ceil(panels.length / columns);
  const width = WIDTH * columns;
  const height = HEIGHT * rows + 30;
  const body = panels.map((panel, i) => {
    const [cx, cy] = [(i % columns) * WIDTH, 30 + Math.floor(i / columns) * HEIGHT];
    return `<g transform="translate(${cx},${cy})">${panel.kind === 'bars' ? barPanel(panel) : linePanel(panel)}</g>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
