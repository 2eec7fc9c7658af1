// `npm test`: runs every test file (test/**/*.test.ts and clients/*/test/**/*.test.ts) with node's test
// runner against real parts — a fresh PostgreSQL database and a Temporal dev server on free ports — and
// stops everything it started, whatever the outcome.
//
// Most of the suite's time is spent waiting (timers, retries, browsers), not computing, so the files run
// in lanes side by side (TEST_LANES, 2 by default). Each lane has its own database and its own Temporal
// server and runs its files one at a time, exactly as a single lane would: no file shares a task queue or
// a table with a file running at the same moment. Lanes take the next file from one queue, slowest first
// (test/durations.json), so they end together. Each file's report is printed whole when it ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createFreshDatabase } from '../tools/local-stack/database.js';
import { projectRoot } from '../tools/local-stack/paths.js';
import { freePort } from '../tools/local-stack/ports.js';
import { startTemporalServer, terminateRunningWorkflows } from '../tools/local-stack/temporal-server.js';

const cleanups: (() => Promise<void>)[] = [];
const children = new Set<ChildProcess>();
const log = (message: string) => console.log(`[test-run] ${message}`);
const durationsFile = path.join(projectRoot, 'test', 'durations.json');
/** A file with no recorded duration is assumed to take this long (seconds): most files take less. */
const UNKNOWN_DURATION = 20;

function testFiles(args: string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.test.ts')) found.push(path.relative(projectRoot, full));
    }
  };
  if (args.length > 0) {
    // Files as given; a folder stands for the test files in it.
    for (const arg of args)
      if (existsSync(arg) && statSync(arg).isDirectory()) walk(path.resolve(arg));
      else found.push(arg);
    return found;
  }
  walk(path.join(projectRoot, 'test'));
  // Packages of their own keep their tests beside them (clients/typescript/test): part of the suite too.
  for (const client of readdirSync(path.join(projectRoot, 'clients'), { withFileTypes: true }))
    if (client.isDirectory() && existsSync(path.join(projectRoot, 'clients', client.name, 'test')))
      walk(path.join(projectRoot, 'clients', client.name, 'test'));
  return found.sort();
}

/** Seconds each file took in a recorded run (`TEST_RECORD_DURATIONS=1 npm test` rewrites it). */
function recordedDurations(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(durationsFile, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

interface Lane {
  number: number;
  env: Record<string, string>;
}

/** A lane's own database and Temporal server (with its Web UI and metrics, which browser tests use). */
async function startLane(number: number): Promise<Lane> {
  const database = await createFreshDatabase(
    `herald_test_${number}`,
    process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL,
  );
  cleanups.push(() => database.remove());
  const temporal = await startTemporalServer({
    port: await freePort(),
    uiPort: await freePort(),
    metricsPort: await freePort(),
  });
  cleanups.push(() => temporal.stop());
  log(`lane ${number}: ${database.where}; Temporal at ${temporal.address}, UI at ${temporal.uiUrl}`);
  return {
    number,
    env: {
      HERALD_TEST_DATABASE_URL: database.databaseUrl,
      HERALD_TEST_TEMPORAL_ADDRESS: temporal.address,
      HERALD_TEST_TEMPORAL_UI: temporal.uiUrl ?? '',
      HERALD_TEST_TEMPORAL_METRICS: temporal.metricsUrl ?? '',
    },
  };
}

/** The counts node's spec reporter prints at the end of a file's report ("ℹ pass 12"). */
const COUNTS = ['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo'] as const;
type Counts = Record<(typeof COUNTS)[number], number>;

interface FileResult {
  file: string;
  seconds: number;
  exitCode: number;
  counts: Counts;
  /** What the summary repeats for a file that failed (a long log keeps only its tail). */
  failures: string;
}

function countsIn(report: string): Counts {
  const counts = Object.fromEntries(COUNTS.map((name) => [name, 0])) as Counts;
  for (const name of COUNTS) {
    const match = new RegExp(`^ℹ ${name} (\\d+)$`, 'm').exec(report);
    if (match) counts[name] = Number(match[1]);
  }
  return counts;
}

/** The spec reporter's closing "failing tests" section, or else the report's last lines. */
function failuresIn(report: string): string {
  const start = report.lastIndexOf('✖ failing tests:');
  const part = start >= 0 ? report.slice(start) : report.split('\n').slice(-40).join('\n');
  return part.length > 6000 ? `…${part.slice(-6000)}` : part;
}

function runFile(file: string, lane: Lane): Promise<FileResult> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', file], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...lane.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' },
  });
  children.add(child);
  let report = '';
  child.stdout.on('data', (chunk: Buffer) => (report += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (report += chunk.toString()));
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      children.delete(child);
      const seconds = (Date.now() - started) / 1000;
      process.stdout.write(
        `\n── ${file} (lane ${lane.number}, ${seconds.toFixed(1)} s${code === 0 ? '' : `, exit ${code ?? signal}`}) ──\n${report}`,
      );
      resolve({ file, seconds, exitCode: code ?? 1, counts: countsIn(report), failures: failuresIn(report) });
    });
  });
}

/**
 * Ends what a file left running on its lane's server: a later file's workers would otherwise pick up its
 * tasks on the same queues, against that file's own fakes, and wait behind them.
 */
async function endLeftoverWorkflows(file: string, lane: Lane): Promise<void> {
  const address = lane.env.HERALD_TEST_TEMPORAL_ADDRESS!;
  try {
    const ended = await terminateRunningWorkflows(address, `${file} is over`);
    if (ended > 0) log(`lane ${lane.number}: terminated ${ended} workflows ${file} left running`);
  } catch (error) {
    log(`lane ${lane.number}: could not end the workflows ${file} left running: ${String(error)}`);
  }
}

async function main(): Promise<number> {
  const files = testFiles(process.argv.slice(2));
  const durations = recordedDurations();
  const expected = (file: string) => durations[file] ?? UNKNOWN_DURATION;
  const queue = [...files].sort((a, b) => expected(b) - expected(a));
  const laneCount = Math.max(1, Math.min(Number(process.env.TEST_LANES ?? 2) || 1, files.length));

  // One after the other: each takes free ports, which a server starting beside it could take too.
  const lanes: Lane[] = [];
  for (let n = 1; n <= laneCount; n++) lanes.push(await startLane(n));
  log(`${files.length} files in ${laneCount} lane${laneCount === 1 ? '' : 's'}`);

  const started = Date.now();
  const results: FileResult[] = [];
  let stopping = false;
  const stop = () => {
    stopping = true;
    for (const child of children) child.kill('SIGINT');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await Promise.all(
    lanes.map(async (lane) => {
      for (let file = queue.shift(); file && !stopping; file = queue.shift()) {
        results.push(await runFile(file, lane));
        await endLeftoverWorkflows(file, lane);
      }
    }),
  );

  const total = Object.fromEntries(
    COUNTS.map((name) => [name, results.reduce((sum, r) => sum + r.counts[name], 0)]),
  ) as Counts;
  const broken = results.filter((r) => r.exitCode !== 0);
  const slowest = [...results].sort((a, b) => b.seconds - a.seconds).slice(0, 10);
  console.log('\n── summary ──');
  console.log(`slowest files: ${slowest.map((r) => `${r.file} ${r.seconds.toFixed(0)} s`).join(', ')}`);
  // Each file's report was printed when it ended; a long log's tail is often all a reader sees, so what
  // failed is repeated here.
  for (const r of broken) console.log(`\n✖ ${r.file} exited with ${r.exitCode}:\n${r.failures.trim()}`);
  console.log(
    `${files.length} files, ${total.tests} tests in ${((Date.now() - started) / 60_000).toFixed(1)} min: ` +
      `${total.pass} passed, ${total.fail} failed, ${total.cancelled} cancelled, ${total.skipped} skipped`,
  );
  if (process.env.TEST_RECORD_DURATIONS === '1') {
    const recorded = { ...durations };
    for (const r of results) recorded[r.file] = Math.round(r.seconds);
    const sorted = Object.fromEntries(Object.entries(recorded).sort(([a], [b]) => a.localeCompare(b)));
    writeFileSync(durationsFile, JSON.stringify(sorted, null, 2) + '\n');
    log(`durations written to ${path.relative(projectRoot, durationsFile)}`);
  }
  return broken.length > 0 || total.fail > 0 || total.cancelled > 0 || stopping ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error('[test-run] could not start the test stack:', error);
} finally {
  for (const cleanup of cleanups.reverse())
    await cleanup().catch((e) => console.error('[test-run] cleanup:', e));
}
process.exit(code);
