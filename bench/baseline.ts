// `--baseline <git-ref>`: Herald as it was at another commit, prepared to run beside the current checkout
// on the same Temporal server, sinks and PostgreSQL server. The ref is checked out into a temporary git
// worktree with the current node_modules, its own Prisma client, its own database migrated with its own
// migrations, and its own workflow bundle. Only its src/ runs; the benchmark itself is the current one.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { dropDatabase, ensureDatabase } from '../tools/local-stack/postgres.js';
import { projectRoot } from '../tools/local-stack/paths.js';
import type { HeraldBuild } from './stack.js';

export interface BaselineCheckout {
  /** The ref as given, and the commit it named. */
  ref: string;
  commit: string;
  /** The worktree: its src/ is what runs. */
  root: string;
  databaseUrl: string;
  bundlePath: string;
  /** What differs beyond src/ that could bear on the comparison (package.json's dependencies). */
  notes: string[];
  /** Drops its database and removes the worktree. */
  remove(): Promise<void>;
}

/** Where the workflow bundle script lives, newest layout first. */
const BUNDLE_SCRIPTS = ['src/workers/bundle-workflows.ts', 'scripts/bundle-workflows.ts'];
const MIGRATED = /All migrations have been successfully applied|No pending migrations to apply/;

/**
 * Runs a command in `cwd` and resolves with its output. With `doneLine`, it is stopped as soon as its
 * output matches: Prisma 6.19's `migrate deploy` idles ~10 s after success (tools/local-stack/migrate.ts).
 */
function run(
  cwd: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
  doneLine?: RegExp,
): Promise<string> {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, CHECKPOINT_DISABLE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (doneLine?.test(output)) child.kill('SIGTERM');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0 || doneLine?.test(output)) resolve(output);
      else
        reject(new Error(`${[command, ...args].join(' ')} in ${cwd} failed (exit code ${code}):\n${output}`));
    });
  });
}

const git = (...args: string[]) => run(projectRoot, 'git', args).then((out) => out.trim());

/** The current checkout, for the report: its commit, and whether uncommitted changes run with it. */
export async function describeCheckout(): Promise<string> {
  const commit = await git('rev-parse', '--short', 'HEAD');
  const dirty = (await git('status', '--porcelain', '--untracked-files=no')) !== '';
  return dirty ? `${commit} with uncommitted changes` : commit;
}

const dependenciesOf = (packageJson: string) => {
  const { dependencies, devDependencies, overrides } = JSON.parse(packageJson) as Record<string, unknown>;
  return JSON.stringify({ dependencies, devDependencies, overrides });
};

/**
 * Checks out `ref` beside the project and prepares it to run. `serverDatabaseUrl` is any database on the
 * PostgreSQL server to create the baseline's database on (the current build's own).
 */
export async function prepareBaseline(
  ref: string,
  dir: string,
  serverDatabaseUrl: string,
  log: (line: string) => void,
): Promise<BaselineCheckout> {
  const commit = await git('rev-parse', '--verify', `${ref}^{commit}`);
  await git('worktree', 'add', '--detach', dir, commit);
  const cleanups: (() => Promise<unknown>)[] = [() => git('worktree', 'remove', '--force', dir)];
  const remove = async () => {
    for (const c of cleanups.reverse())
      await c().catch((e: unknown) => log(`baseline cleanup: ${String(e)}`));
  };
  try {
    const notes: string[] = [];
    const packageJson = (root: string) => readFileSync(path.join(root, 'package.json'), 'utf8');
    if (dependenciesOf(packageJson(dir)) !== dependenciesOf(packageJson(projectRoot)))
      notes.push(
        `package.json's dependencies differ between ${ref} and the current checkout; the baseline ran with the current node_modules`,
      );
    const nodeModules = path.join(dir, 'node_modules');
    symlinkSync(path.join(projectRoot, 'node_modules'), nodeModules);
    // Unlinked before the worktree goes, so that nothing ever reaches through it.
    cleanups.push(async () => unlinkSync(nodeModules));

    // Its own database on the same server, migrated with its own migrations.
    const name = `herald_bench_baseline_${Date.now()}_${process.pid}`;
    await ensureDatabase(serverDatabaseUrl, name);
    cleanups.push(() => dropDatabase(serverDatabaseUrl, name));
    const url = new URL(serverDatabaseUrl);
    url.pathname = `/${name}`;
    const databaseUrl = url.toString();
    // A generator writing into node_modules (prisma-client-js without output) would overwrite the
    // current checkout's client there, which every worktree shares.
    const schema = readFileSync(path.join(dir, 'prisma', 'schema.prisma'), 'utf8');
    if (!/provider\s*=\s*"prisma-client"/.test(schema))
      throw new Error(`${ref}'s Prisma generator is not "prisma-client" (into src/generated); not supported`);
    const prisma = path.join(dir, 'node_modules', '.bin', 'prisma');
    await run(dir, prisma, ['generate'], { DATABASE_URL: databaseUrl });
    await run(dir, prisma, ['migrate', 'deploy'], { DATABASE_URL: databaseUrl }, MIGRATED);

    // Its own workflow bundle, built from its source, as its Dockerfile does.
    const script = BUNDLE_SCRIPTS.find((s) => existsSync(path.join(dir, s)));
    if (!script) throw new Error(`${ref} has none of ${BUNDLE_SCRIPTS.join(', ')}`);
    const bundlePath = path.join(dir, 'workflow-bundle.js');
    await run(dir, process.execPath, ['--import', 'tsx', script, bundlePath]);

    log(`baseline ${ref} (${commit.slice(0, 7)}) ready in ${dir}, database ${name}`);
    return { ref, commit, root: dir, databaseUrl, bundlePath, notes, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/**
 * Each build once per round, the order reversed every other round (A B, B A), as variants run: a
 * machine that grows busier or quieter weighs on both alike. Never two at once: they share task queues.
 */
export async function inRounds<T>(
  rounds: number,
  builds: HeraldBuild[],
  run: (build: HeraldBuild, round: number) => Promise<T>,
): Promise<Record<string, T[]>> {
  const results: Record<string, T[]> = Object.fromEntries(builds.map((b) => [b.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const build of round % 2 === 0 ? builds : [...builds].reverse())
      results[build.name]!.push(await run(build, round));
  }
  return results;
}
