// `npm run dev`: installs what is missing (npm packages, the Temporal CLI), then hands over to the
// TypeScript supervisor that starts and watches every part of Herald.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTools } from './ensure-tools.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
ensureTools();

const child = spawn(
  process.execPath,
  ['--import', 'tsx', path.join(root, 'tools', 'local-stack', 'dev-stack.ts')],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
// Ctrl-C reaches the whole process group; the supervisor handles it and this process waits for it.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
