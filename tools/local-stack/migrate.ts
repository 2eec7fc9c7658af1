import { spawn } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from './paths.js';

const DONE = /All migrations have been successfully applied|No pending migrations to apply/;

/**
 * `prisma migrate deploy` against a database. Prisma 6.19's wasm schema engine leaves a 10 s timer
 * behind that holds the CLI open after its work is done, so the CLI is stopped once it reports success.
 */
export function migrateDeploy(databaseUrl: string): Promise<string> {
  const prisma = path.join(projectRoot, 'node_modules', '.bin', 'prisma');
  const child = spawn(prisma, ['migrate', 'deploy'], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl, CHECKPOINT_DISABLE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (DONE.test(output)) {
        child.kill('SIGTERM');
        resolve(output);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('exit', (code) => {
      if (DONE.test(output)) resolve(output);
      else reject(new Error(`prisma migrate deploy failed (exit code ${code}):\n${output}`));
    });
  });
}
