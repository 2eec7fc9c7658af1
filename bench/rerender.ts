// `npx tsx bench/rerender.ts bench/results/<report>.json`: writes the report's Markdown summary and chart
// again from its JSON with the current report code (ratios, labels), without running anything.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderMarkdown } from './report/markdown.js';
import { chartOf, computeRatios, type BenchReport } from './report/report.js';

const file = process.argv[2];
if (!file?.endsWith('.json')) {
  console.error('usage: npx tsx bench/rerender.ts bench/results/<report>.json');
  process.exit(64);
}
const stored = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
const report: BenchReport = { ...stored, ratios: computeRatios(stored) };
const base = file.slice(0, -'.json'.length);
const files = { json: path.basename(file), svg: `${path.basename(base)}.svg` };
writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
writeFileSync(`${base}.svg`, chartOf(report));
writeFileSync(`${base}.md`, renderMarkdown(report, files));
console.log(`rewrote ${base}.md and .svg`);
