// `npm run chaos [-- --notifications N --rate R --concurrency C --smtp-down S]`: the fault-injection suite on real
// processes. Prints a table, writes chaos/results/<date>.md and .json, exits 1 on any loss.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../tools/local-stack/paths.js';
import { fullPlan } from './faults.js';
import { resultTable, writeReport } from './report.js';
import { runChaos } from './suite.js';

const { values } = parseArgs({
  options: {
    notifications: { type: 'string', default: '2000' },
    rate: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '8' },
    'smtp-down': { type: 'string', default: '30' },
    'settle-timeout': { type: 'string', default: '600' },
    'keep-dir': { type: 'boolean', default: false },
  },
});
const notifications = Number(values.notifications);
const rate = Number(values.rate);
const concurrency = Number(values.concurrency);
const smtpDown = Number(values['smtp-down']);
if (![notifications, rate, concurrency, smtpDown].every((n) => Number.isFinite(n) && n > 0)) {
  console.error('--notifications, --rate, --concurrency and --smtp-down must be positive numbers');
  process.exit(64);
}
const log = (line: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`);
const command = `npm run chaos -- --notifications ${notifications} --rate ${rate} --concurrency ${concurrency} --smtp-down ${smtpDown}`;

const result = await runChaos({
  notifications,
  rate,
  concurrency,
  faults: fullPlan(smtpDown),
  settleTimeoutMs: Number(values['settle-timeout']) * 1000,
  keepDir: values['keep-dir'],
  log,
});
console.log(`\n${resultTable(result)}\n`);
for (const problem of [...result.verdict.lost, ...result.verdict.disagreements].slice(0, 20))
  console.log(`  ${problem}`);
const report = writeReport(result, command, path.join(projectRoot, 'chaos', 'results'));
console.log(`report: ${path.relative(projectRoot, report)}`);
console.log(result.passed ? 'chaos: PASSED, nothing lost' : 'chaos: FAILED');
process.exit(result.passed ? 0 : 1);
